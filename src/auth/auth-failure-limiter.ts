import { AppError, type Clock } from "../common/index.js";

/** Limits of failed authentications, counted per client address and per token prefix within a window. */
export interface AuthFailureLimits {
	windowMs: number;
	perIp: number;
	perToken: number;
}

interface Counter {
	count: number;
	since: number;
	/** Attempts refused in this window (the first one is worth an audit event, the rest are not). */
	refused: number;
}

const maxKeys = 50_000;

/**
 * Counts failed authentications in memory (per server process) and refuses further attempts with
 * `rate_limited` (429) once a client address or a token prefix has failed too often in the window.
 */
export class AuthFailureLimiter {
	private readonly counters = new Map<string, Counter>();

	constructor(
		private readonly limits: AuthFailureLimits,
		private readonly clock: Clock,
	) {}

	/** Throws `rate_limited` when the address or the token prefix is over its limit. */
	check(ip: string, tokenKey: string | undefined): void {
		const now = this.clock.now().getTime();
		for (const [key, limit, what] of this.keys(ip, tokenKey)) {
			const c = this.current(key, now);
			if (c && c.count >= limit) {
				const seconds = Math.max(1, Math.ceil((c.since + this.limits.windowMs - now) / 1000));
				throw new AppError(
					"rate_limited",
					`too many failed authentications ${what}; try again in ${seconds} s (check the token you use)`,
					{ details: { retry_after_seconds: seconds, isFirstRefusal: c.refused++ === 0 }, retryable: true },
				);
			}
		}
	}

	/** Records one failed authentication. */
	fail(ip: string, tokenKey: string | undefined): void {
		const now = this.clock.now().getTime();
		if (this.counters.size > maxKeys) this.prune(now);
		for (const [key] of this.keys(ip, tokenKey)) {
			const c = this.current(key, now);
			if (c) c.count++;
			else this.counters.set(key, { count: 1, since: now, refused: 0 });
		}
	}

	private keys(ip: string, tokenKey: string | undefined): Array<[string, number, string]> {
		const out: Array<[string, number, string]> = [[`ip:${ip}`, this.limits.perIp, `from ${ip}`]];
		if (tokenKey) out.push([`token:${tokenKey}`, this.limits.perToken, `with the token ${tokenKey}…`]);
		return out;
	}

	private current(key: string, now: number): Counter | undefined {
		const c = this.counters.get(key);
		if (c && now - c.since >= this.limits.windowMs) {
			this.counters.delete(key);
			return undefined;
		}
		return c;
	}

	private prune(now: number): void {
		for (const [key, c] of this.counters) if (now - c.since >= this.limits.windowMs) this.counters.delete(key);
	}
}
