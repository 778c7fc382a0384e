import { timingSafeEqual } from "node:crypto";
import type { FastifyInstance } from "fastify";
import { authenticateToken, hashToken, type Principal, tokenScopes } from "../auth/index.js";
import { AppError } from "../common/index.js";
import { findUserById } from "../db/index.js";
import type { ServerContext } from "./server-context.js";

/** The credential of a request: REANA's `access_token` query parameter, or an `Authorization: Bearer` header. */
export function credentialOf(query: unknown, authorization: string | undefined): string | undefined {
	const fromQuery = (query as { access_token?: unknown } | undefined)?.access_token;
	if (typeof fromQuery === "string" && fromQuery !== "") return fromQuery;
	const m = /^Bearer\s+(.+)$/i.exec(authorization ?? "");
	return m?.[1]?.trim() || undefined;
}

/** Resolves every request's principal before its handler runs; routes then authorize through `can`. */
export function installAuthHook(app: FastifyInstance, ctx: ServerContext): void {
	app.decorateRequest("principal", null);
	app.addHook("preHandler", async (request) => {
		const config = request.routeOptions.config as { isPublic?: boolean } | undefined;
		const management = request.headers["x-quota-management-secret"];
		if (typeof management === "string" && request.url.startsWith("/api/quota")) {
			request.principal = managementPrincipal(ctx, management);
			return;
		}
		const value = credentialOf(request.query, request.headers.authorization);
		if (!value) return;
		try {
			request.principal = await principalFor(ctx, value);
		} catch (error) {
			if (!config?.isPublic) throw error;
		}
	});
}

async function principalFor(ctx: ServerContext, value: string): Promise<Principal> {
	const sessionUser = ctx.sessionTokens.get(hashToken(value));
	if (sessionUser) {
		const user = await findUserById(ctx.db, sessionUser);
		if (!user) throw new AppError("forbidden", "the session's user no longer exists");
		return { user, scopes: tokenScopes, tokenId: null };
	}
	return authenticateToken(ctx.db, value, ctx.clock);
}

/**
 * REANA's quota management secret, for the /api/quota endpoints only: it acts as an administrator
 * with no account. A wrong secret is refused like a wrong token.
 */
function managementPrincipal(ctx: ServerContext, given: string): Principal {
	const expected = ctx.config.quotaManagementSecret;
	const a = Buffer.from(given);
	const b = Buffer.from(expected ?? "");
	if (!expected || a.length !== b.length || !timingSafeEqual(a, b)) {
		throw new AppError("forbidden", "the quota management secret is not valid (ORRERY_QUOTA_MANAGEMENT_SECRET)");
	}
	return {
		user: { id: "quota-management", email: "quota-management", full_name: null, role: "admin", created_at: "" },
		scopes: ["admin"],
		tokenId: null,
	};
}
