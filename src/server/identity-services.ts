import { AuthFailureLimiter, OidcProvider } from "../auth/index.js";
import type { ServerContext } from "./server-context.js";

/** The identity machinery of one server: the OIDC provider (when configured) and the auth-failure limiter. */
export interface IdentityServices {
	provider: OidcProvider | undefined;
	limiter: AuthFailureLimiter;
	/** Device codes that already gave a token (hash → expiry ms), refused if presented again. */
	usedDeviceCodes: Map<string, number>;
}

const byContext = new WeakMap<ServerContext, IdentityServices>();

/** The identity services of a server context, created on first use (one set per server). */
export function identityServices(ctx: ServerContext): IdentityServices {
	let found = byContext.get(ctx);
	if (!found) {
		const { identity, oidc } = ctx.config;
		found = {
			provider: oidc ? new OidcProvider(oidc, ctx.clock) : undefined,
			limiter: new AuthFailureLimiter(
				{
					windowMs: identity.authFailureWindowSeconds * 1000,
					perIp: identity.authFailuresPerIp,
					perToken: identity.authFailuresPerToken,
				},
				ctx.clock,
			),
			usedDeviceCodes: new Map(),
		};
		byContext.set(ctx, found);
	}
	return found;
}
