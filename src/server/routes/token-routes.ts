import type { FastifyInstance } from "fastify";
import type { Static } from "typebox";
import {
	createPersonalToken,
	recordAudit,
	revokeTokenFor,
	type Scope,
	tokenListingScope,
	tokenStatus,
} from "../../auth/index.js";
import { AppError } from "../../common/index.js";
import type { TokenInfo } from "../../contract/index.js";
import { findUserByEmail, findUserById, listTokensWithOwners, type TokenRow } from "../../db/index.js";
import { handle } from "../route-kit.js";
import type { ServerContext } from "../server-context.js";

/** A token as the API shows it: never its value or hash. */
export function tokenInfo(t: TokenRow, userEmail: string, now: Date): Static<typeof TokenInfo> {
	return {
		id: t.id,
		name: t.name,
		prefix: t.prefix,
		scopes: JSON.parse(t.scopes) as Scope[],
		kind: t.kind,
		status: tokenStatus(t, now),
		user_email: userEmail,
		created_at: t.created_at,
		last_used_at: t.last_used_at,
		expires_at: t.expires_at,
		revoked_at: t.revoked_at,
	};
}

/** Self-service personal access tokens: list, create (value shown once), revoke; administrators see everyone's. */
export function tokenRoutes(app: FastifyInstance, ctx: ServerContext): void {
	handle(app, "list_tokens", async ({ principal, query }) => {
		if (!principal) throw new AppError("unauthenticated", "no access token given");
		const other = query.user ? await findUserByEmail(ctx.db, query.user) : undefined;
		if (query.user && !other) throw new AppError("not_found", `no user with the email ${query.user}`);
		const userId = tokenListingScope(principal, other, query.all === true);
		const rows = await listTokensWithOwners(ctx.db, userId);
		const now = ctx.clock.now();
		return { items: rows.map((r) => tokenInfo(r, r.user_email, now)), total: rows.length };
	});

	handle(app, "create_token", async ({ principal, body, raw }) => {
		if (!principal) throw new AppError("unauthenticated", "no access token given");
		const { value, row } = await createPersonalToken(
			ctx.db,
			principal,
			{
				name: body.name,
				...(body.scopes ? { scopes: body.scopes } : {}),
				...(body.expires_in_days !== undefined ? { expiresInDays: body.expires_in_days } : {}),
			},
			ctx.config.identity,
			ctx.clock,
		);
		await recordAudit(ctx.db, ctx.clock, {
			type: "token_created",
			principal,
			ip: raw.ip,
			target: row.prefix,
			message: `token '${row.name}' (${JSON.parse(row.scopes).join(", ")}) expiring ${row.expires_at ?? "never"}`,
		});
		return {
			message: "The token was created. Copy it now: it is not shown again.",
			access_token: value,
			token: tokenInfo(row, principal.user.email, ctx.clock.now()),
		};
	});

	handle(app, "revoke_token", async ({ principal, params, raw }) => {
		if (!principal) throw new AppError("unauthenticated", "no access token given");
		const token = await revokeTokenFor(ctx.db, principal, params.token_id, ctx.clock);
		const owner = token.user_id === principal.user.id ? principal.user : await findUserById(ctx.db, token.user_id);
		const email = owner?.email ?? "";
		await recordAudit(ctx.db, ctx.clock, {
			type: "token_revoked",
			principal,
			ip: raw.ip,
			target: token.prefix,
			message: `token '${token.name}' of ${email} revoked`,
		});
		return { message: `Token ${token.prefix}… revoked.`, token: tokenInfo(token, email, ctx.clock.now()) };
	});
}
