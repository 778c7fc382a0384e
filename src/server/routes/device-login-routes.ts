import type { FastifyInstance } from "fastify";
import { hashToken, issueToken, loginWithClaims, personScopes, recordAudit, tokenExpiry } from "../../auth/index.js";
import { AppError } from "../../common/index.js";
import { identityServices } from "../identity-services.js";
import { handle } from "../route-kit.js";
import type { ServerContext } from "../server-context.js";
import { requireProvider } from "./oidc-routes.js";
import { tokenInfo } from "./token-routes.js";

/** How the provider's device-flow errors (RFC 8628 §3.5) read to a user. */
const deviceErrors: Record<string, string> = {
	access_denied: "the login was denied at the identity provider",
	expired_token: "the login code expired before it was approved; run 'orrery login' again",
	invalid_grant: "this device code was already used or is not known to the provider; run 'orrery login' again",
};

/**
 * The terminal login: the server runs the OIDC device authorization flow with its own client credentials,
 * and once the person approves, answers the CLI with a new Orrery token (kind `login`) for it to store.
 */
export function deviceLoginRoutes(app: FastifyInstance, ctx: ServerContext): void {
	const services = identityServices(ctx);

	handle(app, "device_login_start", async () => {
		const provider = requireProvider(ctx);
		const d = await provider.startDeviceAuthorization();
		return {
			device_code: d.device_code,
			user_code: d.user_code,
			verification_uri: d.verification_uri,
			verification_uri_complete: d.verification_uri_complete ?? null,
			expires_in: d.expires_in,
			interval: d.interval ?? 5,
		};
	});

	handle(app, "device_login_poll", async ({ body, raw }) => {
		const provider = requireProvider(ctx);
		const now = ctx.clock.now().getTime();
		const key = hashToken(body.device_code);
		for (const [k, until] of services.usedDeviceCodes) if (until < now) services.usedDeviceCodes.delete(k);
		services.limiter.check(raw.ip, undefined);
		const refuse = async (message: string) => {
			services.limiter.fail(raw.ip, undefined);
			await recordAudit(ctx.db, ctx.clock, { type: "login_failed", ip: raw.ip, target: "device", message });
			return new AppError("forbidden", message);
		};
		if (services.usedDeviceCodes.has(key)) throw await refuse(deviceErrors.invalid_grant as string);
		const res = await provider.pollDeviceCode(body.device_code);
		if (res.error === "authorization_pending") return { status: "pending" as const, interval: 5 };
		if (res.error === "slow_down") return { status: "slow_down" as const, interval: 10 };
		if (res.error) {
			throw await refuse(
				deviceErrors[res.error] ?? `the identity provider refused the login: ${res.error_description ?? res.error}`,
			);
		}
		if (!res.id_token)
			throw await refuse("the identity provider sent no ID token; the server must ask for the 'openid' scope");
		services.usedDeviceCodes.set(key, now + 3600_000);
		let claims: Record<string, unknown>;
		try {
			claims = await provider.verify(res.id_token, { audience: provider.config.clientId, what: "ID token" });
		} catch (error) {
			throw await refuse(error instanceof Error ? error.message : String(error));
		}
		const withInfo = await provider.withUserinfo(claims, res.access_token);
		const login = await loginWithClaims(ctx.db, provider.config, withInfo, ctx.clock);
		const { value, row } = await issueToken(
			ctx.db,
			login.user,
			{
				name: body.token_name?.trim() || "orrery login",
				scopes: personScopes(login.user),
				expiresAt: tokenExpiry(undefined, ctx.config.identity, ctx.clock),
				kind: "login",
			},
			ctx.clock,
		);
		await recordAudit(ctx.db, ctx.clock, {
			type: "login",
			actor: login.user.email,
			ip: raw.ip,
			target: "device",
			message: `${login.isNewUser ? "first " : ""}terminal login; groups: ${login.groups.join(", ") || "none"}`,
		});
		await recordAudit(ctx.db, ctx.clock, {
			type: "token_created",
			actor: login.user.email,
			ip: raw.ip,
			target: row.prefix,
			message: `login token '${row.name}' expiring ${row.expires_at ?? "never"}`,
		});
		return {
			status: "complete" as const,
			interval: 0,
			access_token: value,
			token: tokenInfo(row, login.user.email, ctx.clock.now()),
			user: { email: login.user.email, full_name: login.user.full_name ?? "", groups: login.groups },
		};
	});
}
