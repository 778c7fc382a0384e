import { createHash, timingSafeEqual } from "node:crypto";
import type { FastifyInstance, FastifyRequest } from "fastify";
import {
	authenticateProviderToken,
	authenticateToken,
	authenticateWebSession,
	authorize,
	hashToken,
	isSessionValue,
	looksLikeJwt,
	type Principal,
	recordAudit,
	tokenPrefix,
	tokenScopes,
	visiblePrefix,
} from "../auth/index.js";
import { AppError, isAppError } from "../common/index.js";
import type { OperationId } from "../contract/index.js";
import { routes } from "../contract/schemas.js";
import { findUserById, listGroupIdsOfUser } from "../db/index.js";
import { identityServices } from "./identity-services.js";
import type { ServerContext } from "./server-context.js";
import { clearCookie, cookieOf, isSameOrigin, sessionCookie } from "./session-cookies.js";

/** The credential of a request: REANA's `access_token` query parameter, or an `Authorization: Bearer` header. */
export function credentialOf(query: unknown, authorization: string | undefined): string | undefined {
	const fromQuery = (query as { access_token?: unknown } | undefined)?.access_token;
	if (typeof fromQuery === "string" && fromQuery !== "") return fromQuery;
	const m = /^Bearer\s+(.+)$/i.exec(authorization ?? "");
	return m?.[1]?.trim() || undefined;
}

/** What may be logged and rate-limited about a credential: a token's visible prefix, else a short hash. */
export function credentialKey(value: string): string {
	if (value.startsWith(tokenPrefix) && !value.startsWith(`${tokenPrefix}session_`)) return visiblePrefix(value);
	return `#${createHash("sha256").update(value).digest("hex").slice(0, 12)}`;
}

/** Records a refused credential in the audit log: by its key (never its value), address and path. */
export async function auditCredential(
	ctx: ServerContext,
	request: FastifyRequest,
	type: "auth_failed" | "rate_limited",
	key: string,
	message: string,
): Promise<void> {
	await recordAudit(ctx.db, ctx.clock, {
		type,
		actor: key,
		ip: request.ip,
		target: request.url.split("?")[0] ?? null,
		message,
	});
}

const unsafeMethods = new Set(["POST", "PUT", "PATCH", "DELETE"]);
const authFailures = new WeakSet<FastifyRequest>();

/**
 * Resolves every request's principal before body validation, refuses credentials that failed too often
 * (429), and checks the route's declared permission (scope) from the contract; handlers then check the
 * resource through `can`. Security events go to the audit log.
 */
export function installAuthHook(app: FastifyInstance, ctx: ServerContext): void {
	const { limiter } = identityServices(ctx);
	app.decorateRequest("principal", null);
	app.addHook("onRequest", async (request, reply) => {
		const config = request.routeOptions.config as { isPublic?: boolean; operationId?: OperationId } | undefined;
		// Pages of the web UI, the OpenAPI document and metrics are not API operations: nobody needs to be known.
		if (!config?.operationId) return;
		const permission = routes[config.operationId].permission;
		const isPublic = permission === "public" || config?.isPublic === true;
		// REANA's management secrets stand in for a token on their endpoints only.
		const secret = managementSecretFor(ctx, request);
		const isManagement = secret !== undefined;
		const management = secret?.given;
		const explicit = isManagement ? management : credentialOf(request.query, request.headers.authorization);
		// The web login's cookie is a credential for signing out only (and for entering interactive
		// sessions, at the proxy): the web UI sends its token as a header. Pages served on this origin
		// that are not the UI's (a notebook in an interactive session runs its author's code) would
		// otherwise act as whoever visits them, through the cookie the browser adds by itself.
		const cookie = explicit || config.operationId !== "logout" ? undefined : cookieOf(request, sessionCookie);
		const value = explicit ?? cookie;
		if (cookie && unsafeMethods.has(request.method) && !isSameOrigin(request, ctx.config.publicUrl)) {
			// A browser sends cookies by itself, also on requests other sites make it send: those get no principal.
			if (isPublic) return;
			throw new AppError(
				"forbidden",
				"a request with the session cookie came from another site; use the Orrery web UI, or send a token",
			);
		}
		if (value) {
			const key = secret ? secret.header : credentialKey(value);
			try {
				limiter.check(request.ip, undefined);
				try {
					request.principal = secret ? managementPrincipal(secret) : await principalFor(ctx, value);
				} catch (error) {
					// The per-credential limit stops guesses only: a credential that holds is never refused
					// for what others tried with its visible prefix (or its header).
					if (isAppError(error) && error.code === "forbidden") limiter.check(request.ip, key);
					throw error;
				}
			} catch (error) {
				if (isAppError(error) && error.code === "rate_limited") {
					const { retry_after_seconds: after, isFirstRefusal } = error.details as {
						retry_after_seconds: number;
						isFirstRefusal: boolean;
					};
					if (isFirstRefusal) {
						await auditCredential(ctx, request, "rate_limited", key, error.message);
					}
					if (!isPublic) {
						authFailures.add(request);
						throw new AppError("rate_limited", error.message, {
							details: { retry_after_seconds: after },
							retryable: true,
						});
					}
				} else if (isAppError(error) && error.code === "forbidden") {
					// A dead session cookie is dropped, and counts as a failure only where it was needed.
					if (cookie) clearCookie(reply, sessionCookie, "/", (ctx.config.publicUrl ?? "").startsWith("https:"));
					if (cookie && isPublic) return;
					limiter.fail(request.ip, key);
					authFailures.add(request);
					await auditCredential(ctx, request, "auth_failed", key, error.message);
					if (!isPublic) throw error;
				} else {
					throw error;
				}
			}
		}
		if (!isPublic) authorize(request.principal, permission as Exclude<typeof permission, "public">);
	});
	app.addHook("onError", async (request, reply, error) => {
		if (isAppError(error) && error.code === "rate_limited") {
			const after = (error.details as { retry_after_seconds?: number } | undefined)?.retry_after_seconds;
			if (after) reply.header("retry-after", String(after));
			return;
		}
		if (authFailures.has(request) || !isAppError(error) || error.code !== "forbidden" || !request.principal) return;
		await recordAudit(ctx.db, ctx.clock, {
			type: "permission_denied",
			principal: request.principal,
			ip: request.ip,
			target: `${request.method} ${request.url.split("?")[0]}`,
			message: error.message,
		});
	});
}

/** The principal a credential stands for: an embedded session, a web session, a token or a provider token. */
export async function principalFor(ctx: ServerContext, value: string): Promise<Principal> {
	const sessionUser = ctx.sessionTokens.get(hashToken(value));
	if (sessionUser) {
		const user = await findUserById(ctx.db, sessionUser);
		if (!user) throw new AppError("forbidden", "the session's user no longer exists");
		return {
			user,
			scopes: tokenScopes,
			tokenId: null,
			sessionId: null,
			groupIds: await listGroupIdsOfUser(ctx.db, user.id),
			via: "embedded",
		};
	}
	if (isSessionValue(value)) return authenticateWebSession(ctx.db, value, ctx.clock);
	if (value.startsWith(tokenPrefix)) return authenticateToken(ctx.db, value, ctx.clock);
	const { provider } = identityServices(ctx);
	if (provider?.config.audience && looksLikeJwt(value)) {
		return authenticateProviderToken(ctx.db, provider, value, ctx.clock);
	}
	throw new AppError("forbidden", "the access token is not valid; check ORRERY_ACCESS_TOKEN (or REANA_ACCESS_TOKEN)");
}

/** A REANA management secret a request presents, with the one it must match. */
interface ManagementSecret {
	header: string;
	given: string;
	expected: string | undefined;
	variable: string;
}

/**
 * REANA's management secrets: `X-Quota-Management-Secret` on /api/quota and `X-Token-Management-Secret`
 * on /api/token. Each acts as an administrator with no account, on its endpoints only.
 */
function managementSecretFor(ctx: ServerContext, request: FastifyRequest): ManagementSecret | undefined {
	const path = request.url.split("?")[0] ?? "";
	const kinds = [
		{
			header: "x-quota-management-secret",
			prefix: "/api/quota",
			expected: ctx.config.quotaManagementSecret,
			variable: "ORRERY_QUOTA_MANAGEMENT_SECRET",
		},
		{
			header: "x-token-management-secret",
			prefix: "/api/token",
			expected: ctx.config.identity.tokenManagementSecret,
			variable: "ORRERY_TOKEN_MANAGEMENT_SECRET",
		},
	];
	for (const k of kinds) {
		const given = request.headers[k.header];
		if (typeof given === "string" && (path === k.prefix || path.startsWith(`${k.prefix}/`))) {
			return { header: k.header, given, expected: k.expected, variable: k.variable };
		}
	}
	return undefined;
}

/** The principal of a valid management secret; a wrong one is refused like a wrong token. */
function managementPrincipal(secret: ManagementSecret): Principal {
	const a = Buffer.from(secret.given);
	const b = Buffer.from(secret.expected ?? "");
	if (!secret.expected || a.length !== b.length || !timingSafeEqual(a, b)) {
		throw new AppError("forbidden", `the ${secret.header} is not valid (${secret.variable})`);
	}
	return {
		user: { id: "management", email: secret.header, full_name: null, role: "admin", created_at: "" },
		scopes: ["admin"],
		tokenId: null,
		sessionId: null,
		groupIds: [],
		via: "management",
	};
}
