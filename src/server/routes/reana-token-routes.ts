import type { FastifyInstance } from "fastify";
import { recordAudit, tokenStatus } from "../../auth/index.js";
import { AppError } from "../../common/index.js";
import { findUserByEmail, findUserById, listTokens, revokeToken } from "../../db/index.js";
import { handle } from "../route-kit.js";
import type { ServerContext } from "../server-context.js";

/** REANA's token management: `PUT /api/token` (request a token) and `DELETE /api/token` (revoke a user's). */
export function reanaTokenRoutes(app: FastifyInstance, ctx: ServerContext): void {
	handle(app, "request_token", async ({ principal }) => {
		if (!principal) throw new AppError("unauthenticated", "no access token given");
		const tokens = await listTokens(ctx.db, principal.user.id);
		const now = ctx.clock.now();
		const active = tokens.find((t) => tokenStatus(t, now) === "active");
		return {
			message: "Tokens are self-service on this server: create one with 'orrery token create' (POST /api/tokens).",
			reana_token: { status: active ? "active" : "requested", requested_at: active?.created_at ?? now.toISOString() },
		};
	});

	handle(app, "delete_token", async ({ principal, body, raw }) => {
		if (!principal) throw new AppError("unauthenticated", "no access token given");
		if (Boolean(body.user_id) === Boolean(body.email)) {
			throw new AppError("validation_failed", "name the user by exactly one of user_id or email");
		}
		const user = body.email
			? await findUserByEmail(ctx.db, body.email)
			: await findUserById(ctx.db, body.user_id as string);
		if (!user) throw new AppError("not_found", `no user ${body.email ?? body.user_id}`);
		const now = ctx.clock.now();
		const live = (await listTokens(ctx.db, user.id)).filter((t) => tokenStatus(t, now) === "active");
		if (live.length === 0) throw new AppError("not_found", `${user.email} has no active token to revoke`);
		for (const t of live) {
			await revokeToken(ctx.db, t.id, now.toISOString());
			await recordAudit(ctx.db, ctx.clock, {
				type: "token_revoked",
				principal,
				ip: raw.ip,
				target: t.prefix,
				message: `token '${t.name}' of ${user.email} revoked through REANA's token management`,
			});
		}
		return {
			message: "Access token revoked.",
			email: user.email,
			id_: user.id,
			reana_token: { status: "revoked" },
			status: 200,
		};
	});
}
