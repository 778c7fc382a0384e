import type { Db } from "./connection.js";
import type { SessionTable, UserTable } from "./schema.js";

/** A stored web session (the hash of its cookie value, never the value). */
export type SessionRow = SessionTable;

/** Inserts a session. */
export async function insertSession(db: Db, row: SessionRow): Promise<void> {
	await db.kysely.insertInto("sessions").values(row).execute();
}

/** The session with this hash and its user, if any (expired and revoked included: the caller decides). */
export async function findSessionByHash(
	db: Db,
	hash: string,
): Promise<{ session: SessionRow; user: UserTable } | undefined> {
	const row = await db.kysely
		.selectFrom("sessions")
		.innerJoin("users", "users.id", "sessions.user_id")
		.selectAll("sessions")
		.select([
			"users.email as u_email",
			"users.full_name as u_full_name",
			"users.role as u_role",
			"users.created_at as u_created_at",
		])
		.where("sessions.hash", "=", hash)
		.executeTakeFirst();
	if (!row) return undefined;
	const { u_email, u_full_name, u_role, u_created_at, ...session } = row;
	return {
		session,
		user: { id: session.user_id, email: u_email, full_name: u_full_name, role: u_role, created_at: u_created_at },
	};
}

/** Records that a session was used (callers throttle this). */
export async function touchSession(db: Db, id: string, at: string): Promise<void> {
	await db.kysely.updateTable("sessions").set({ last_seen_at: at }).where("id", "=", id).execute();
}

/** Ends a session; returns false when it had already ended. */
export async function revokeSession(db: Db, id: string, at: string): Promise<boolean> {
	const res = await db.kysely
		.updateTable("sessions")
		.set({ revoked_at: at })
		.where("id", "=", id)
		.where("revoked_at", "is", null)
		.executeTakeFirst();
	return Number(res.numUpdatedRows) > 0;
}

/** A web session by its id (expired and revoked included: the caller decides). */
export async function findSessionById(db: Db, id: string): Promise<SessionRow | undefined> {
	return db.kysely.selectFrom("sessions").selectAll().where("id", "=", id).executeTakeFirst();
}
