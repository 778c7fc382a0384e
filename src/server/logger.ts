import { type Logger, pino } from "pino";

export type { Logger } from "pino";

/** Construction settings of the process logger. */
export interface LoggerConfig {
	level: string;
	pretty?: boolean;
}

/** The structured process logger (JSON lines on stderr). */
export function createLogger(config: LoggerConfig): Logger {
	return pino({ level: config.level, base: { service: "orrery" } }, pino.destination({ fd: 2, sync: false }));
}

/** A logger that writes nothing, for embedded use and tests. */
export function silentLogger(): Logger {
	return pino({ level: "silent" });
}
