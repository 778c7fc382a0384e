import { chmodSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { AppError } from "../common/index.js";

/** The credential `orrery login` stored for one server. */
export interface StoredLogin {
	access_token: string;
	token_id: string;
	prefix: string;
	user: string;
	expires_at: string | null;
	saved_at: string;
}

/** The CLI's configuration file: logins per server URL, and the server used when none is set. */
export interface CliConfigFile {
	default_server?: string;
	logins: Record<string, StoredLogin>;
}

type Env = Record<string, string | undefined>;

/** `$ORRERY_HOME/config.json` when ORRERY_HOME is set, else `$XDG_CONFIG_HOME/orrery/config.json` (~/.config). */
export function cliConfigPath(env: Env = process.env): string {
	if (env.ORRERY_HOME) return join(resolve(env.ORRERY_HOME), "config.json");
	return join(env.XDG_CONFIG_HOME || join(homedir(), ".config"), "orrery", "config.json");
}

/** Reads the configuration file (empty when there is none). */
export function readCliConfig(path = cliConfigPath()): CliConfigFile {
	let text: string;
	try {
		text = readFileSync(path, "utf8");
	} catch (error) {
		if ((error as NodeJS.ErrnoException).code === "ENOENT") return { logins: {} };
		throw new AppError("validation_failed", `cannot read ${path}: ${(error as Error).message}`, { cause: error });
	}
	try {
		const doc = JSON.parse(text) as Partial<CliConfigFile>;
		return { ...doc, logins: doc.logins ?? {} };
	} catch (cause) {
		throw new AppError(
			"validation_failed",
			`${path} is not valid JSON; fix or delete it, then run 'orrery login' again`,
			{
				cause,
			},
		);
	}
}

/** Writes the configuration file readable by its owner only (0600), replacing it atomically. */
export function writeCliConfig(config: CliConfigFile, path = cliConfigPath()): void {
	mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
	const temp = `${path}.${process.pid}.tmp`;
	writeFileSync(temp, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
	chmodSync(temp, 0o600);
	renameSync(temp, path);
}

/** The normal form of a server URL, as logins are keyed by it. */
export function serverKey(url: string): string {
	return url.replace(/\/+$/, "");
}
