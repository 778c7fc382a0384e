import type { Db } from "./connection.js";
import type { TokenTable, UserTable } from "./schema.js";

/** A stored access token (the hash, never the value). */
export type TokenRow = TokenTable;

/** Inserts a token row. */
export async function insertToken(db: Db, token: TokenRow): Promise<void> {
	await db.kysely.insertInto("tokens").values(token).execute();
}

/** The token with this hash and its user, if any (revoked and expired included: the caller decides). */
export async function findTokenByHash(db: Db, hash: string): Promise<{ token: TokenRow; user: UserTable } | undefined> {
	const row = await db.kysely
		.selectFrom("tokens")
		.innerJoin("users", "users.id", "tokens.user_id")
		.selectAll("tokens")
		.select([
			"users.email as u_email",
			"users.full_name as u_full_name",
			"users.role as u_role",
			"users.created_at as u_created_at",
		])
		.where("tokens.hash", "=", hash)
		.executeTakeFirst();
	if (!row) return undefined;
	const { u_email, u_full_name, u_role, u_created_at, ...token } = row;
	return {
		token,
		user: { id: token.user_id, email: u_email, full_name: u_full_name, role: u_role, created_at: u_created_at },
	};
}

/** Records that a token was used (callers throttle this). */
export async function touchToken(db: Db, id: string, at: string): Promise<void> {
	await db.kysely.updateTable("tokens").set({ last_used_at: at }).where("id", "=", id).execute();
}

/** Revokes a token; returns false when there was no such live token. */
export async function revokeToken(db: Db, id: string, at: string): Promise<boolean> {
	const res = await db.kysely
		.updateTable("tokens")
		.set({ revoked_at: at })
		.where("id", "=", id)
		.where("revoked_at", "is", null)
		.executeTakeFirst();
	return Number(res.numUpdatedRows) > 0;
}

/** A user's tokens, newest first. */
export async function listTokens(db: Db, userId: string): Promise<TokenRow[]> {
	return db.kysely
		.selectFrom("tokens")
		.selectAll()
		.where("user_id", "=", userId)
		.orderBy("created_at", "desc")
		.execute();
}

/** The token with this id or prefix, if any. */
export async function findToken(db: Db, idOrPrefix: string): Promise<TokenRow | undefined> {
	return db.kysely
		.selectFrom("tokens")
		.selectAll()
		.where((eb) => eb.or([eb("id", "=", idOrPrefix), eb("prefix", "=", idOrPrefix)]))
		.executeTakeFirst();
}
