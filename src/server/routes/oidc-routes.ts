import { timingSafeEqual } from "node:crypto";
import type { FastifyInstance, FastifyRequest } from "fastify";
import {
	createWebSession,
	loginWithClaims,
	type OidcProvider,
	randomSecret,
	recordAudit,
	revokeTokenFor,
} from "../../auth/index.js";
import { AppError } from "../../common/index.js";
import { findToken, revokeSession } from "../../db/index.js";
import { identityServices } from "../identity-services.js";
import { handle } from "../route-kit.js";
import type { ServerContext } from "../server-context.js";
import { clearCookie, cookieOf, loginCookie, sessionCookie, setCookie } from "../session-cookies.js";

/** What the login cookie carries between the redirect to the provider and the way back. */
interface PendingLogin {
	state: string;
	verifier: string;
	nonce: string;
	next: string | null;
	redirectUri: string;
}

/** The provider, or a clear answer that this server has no OIDC login. */
export function requireProvider(ctx: ServerContext): OidcProvider {
	const { provider } = identityServices(ctx);
	if (!provider) {
		throw new AppError(
			"not_implemented",
			"this server has no OIDC login (ORRERY_OIDC_ISSUER is not set); use a personal access token",
		);
	}
	return provider;
}

function redirectUriOf(ctx: ServerContext, request: FastifyRequest): string {
	const configured = ctx.config.oidc?.redirectUri;
	if (configured) return configured;
	const base = ctx.config.publicUrl?.replace(/\/+$/, "") ?? `${request.protocol}://${request.host}`;
	return `${base}/api/auth/callback`;
}

/** Only a path on this server (not `//host`, not a URL) may be a place to return to. */
function safeNext(next: string | undefined): string | null {
	if (!next?.startsWith("/") || next.startsWith("//") || next.includes("\\")) return null;
	return next;
}

function sameSecret(a: string, b: string): boolean {
	const x = Buffer.from(a);
	const y = Buffer.from(b);
	return x.length === y.length && timingSafeEqual(x, y);
}

/** Browser login (authorization code + PKCE) into a web session, logout, and the login configuration. */
export function oidcRoutes(app: FastifyInstance, ctx: ServerContext): void {
	const isSecure = (ctx.config.publicUrl ?? ctx.config.oidc?.redirectUri ?? "").startsWith("https:");

	handle(app, "auth_config", async () => {
		const { oidc, identity } = ctx.config;
		return {
			oidc_enabled: oidc !== undefined,
			issuer: oidc?.issuer ?? null,
			login_url: oidc ? "/api/auth/login" : null,
			device_login: oidc !== undefined,
			provider_tokens: oidc?.audience !== undefined,
			token_default_days: identity.tokenDefaultDays,
			token_max_days: identity.tokenMaxDays,
		};
	});

	handle(app, "oidc_login", async ({ query, raw }, reply) => {
		const provider = requireProvider(ctx);
		const pending: PendingLogin = {
			state: randomSecret(),
			verifier: randomSecret(48),
			nonce: randomSecret(),
			next: safeNext(query.next),
			redirectUri: redirectUriOf(ctx, raw),
		};
		const url = await provider.authorizationUrl(pending);
		setCookie(reply, loginCookie, Buffer.from(JSON.stringify(pending)).toString("base64url"), {
			path: "/api/auth",
			maxAgeSeconds: 600,
			isSecure,
		});
		reply.header("cache-control", "no-store");
		return reply.redirect(url, 302);
	});

	handle(app, "oidc_callback", async ({ query, raw }, reply) => {
		const provider = requireProvider(ctx);
		clearCookie(reply, loginCookie, "/api/auth", isSecure);
		const fail = async (message: string, actor?: string) => {
			await recordAudit(ctx.db, ctx.clock, { type: "login_failed", actor: actor ?? null, ip: raw.ip, message });
			return new AppError("forbidden", message);
		};
		if (query.error) {
			throw await fail(`the identity provider did not log you in: ${query.error_description ?? query.error}`);
		}
		const cookie = cookieOf(raw, loginCookie);
		let pending: PendingLogin | undefined;
		try {
			pending = cookie ? (JSON.parse(Buffer.from(cookie, "base64url").toString("utf8")) as PendingLogin) : undefined;
		} catch {
			pending = undefined;
		}
		if (!pending?.state || !query.state || !query.code) {
			throw await fail(
				"this login was not started here, took longer than 10 minutes, or cookies are blocked; start it again at /api/auth/login",
			);
		}
		if (!sameSecret(pending.state, query.state)) {
			throw await fail("the login's state does not match this browser's; start it again at /api/auth/login");
		}
		const tokens = await provider.exchangeCode(query.code, pending.verifier, pending.redirectUri);
		if (tokens.error || !tokens.id_token) {
			throw await fail(
				`the identity provider refused the login code: ${tokens.error_description ?? tokens.error ?? "no ID token"}`,
			);
		}
		let claims: Record<string, unknown>;
		try {
			claims = await provider.verify(tokens.id_token, {
				audience: provider.config.clientId,
				nonce: pending.nonce,
				what: "ID token",
			});
		} catch (error) {
			throw await fail(error instanceof Error ? error.message : String(error));
		}
		const withInfo = await provider.withUserinfo(claims, tokens.access_token);
		const login = await loginWithClaims(ctx.db, provider.config, withInfo, ctx.clock);
		const { value } = await createWebSession(ctx.db, login.user, ctx.config.identity.sessionHours, ctx.clock);
		setCookie(reply, sessionCookie, value, {
			path: "/",
			maxAgeSeconds: ctx.config.identity.sessionHours * 3600,
			isSecure,
		});
		await recordAudit(ctx.db, ctx.clock, {
			type: "login",
			actor: login.user.email,
			ip: raw.ip,
			target: "web",
			message: `${login.isNewUser ? "first " : ""}web login; groups: ${login.groups.join(", ") || "none"}`,
		});
		reply.header("cache-control", "no-store");
		// The web UI keeps its credential per tab: it reads the session from the fragment (never sent to a server).
		const target = pending.next ?? `/signin#access_token=${encodeURIComponent(value)}`;
		return reply.redirect(target, 302);
	});

	handle(app, "logout", async ({ principal, raw }, reply) => {
		clearCookie(reply, sessionCookie, "/", isSecure);
		if (!principal) return { message: "Signed out." };
		let message = "Signed out.";
		if (principal.via === "session" && principal.sessionId) {
			await revokeSession(ctx.db, principal.sessionId, ctx.clock.now().toISOString());
			message = "Signed out: the web session has ended.";
		} else if (principal.via === "token" && principal.tokenId) {
			const token = await findToken(ctx.db, principal.tokenId);
			if (token?.kind === "login") {
				await revokeTokenFor(ctx.db, principal, token.id, ctx.clock);
				message = `Logged out: token ${token.prefix}… is revoked.`;
			} else {
				message = "Personal access tokens stay valid after a logout; revoke one with 'orrery token revoke'.";
			}
		}
		await recordAudit(ctx.db, ctx.clock, { type: "logout", principal, ip: raw.ip, target: principal.via, message });
		return { message };
	});
}
