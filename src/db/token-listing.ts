import type { Db } from "./connection.js";
import type { TokenTable } from "./schema.js";

/** A token with the email of its user, for listings. */
export type TokenWithOwner = TokenTable & { user_email: string };

/** Tokens, newest first: one user's (by id), or everyone's (for administrators). */
export async function listTokensWithOwners(db: Db, userId?: string): Promise<TokenWithOwner[]> {
	let q = db.kysely
		.selectFrom("tokens")
		.innerJoin("users", "users.id", "tokens.user_id")
		.selectAll("tokens")
		.select("users.email as user_email");
	if (userId) q = q.where("tokens.user_id", "=", userId);
	return q.orderBy("tokens.created_at", "desc").execute();
}
