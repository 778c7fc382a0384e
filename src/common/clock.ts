/** The source of the current time; injected so tests can control it. */
export interface Clock {
	now(): Date;
}

/** The wall clock. */
export const systemClock: Clock = { now: () => new Date() };

/** The time as stored in the database: ISO-8601 UTC with milliseconds, which sorts as text. */
export function isoNow(clock: Clock = systemClock): string {
	return clock.now().toISOString();
}
