import type { Db } from "./connection.js";
import { uniquely } from "./connection.js";
import type { UserTable } from "./schema.js";

/** A stored user. */
export type UserRow = UserTable;

/** Inserts a user; a taken email is a conflict. */
export async function insertUser(db: Db, user: UserRow): Promise<UserRow> {
	await uniquely(`a user with the email ${user.email} already exists`, () =>
		db.kysely.insertInto("users").values(user).execute(),
	);
	return user;
}

/** The user with this id, if any. */
export async function findUserById(db: Db, id: string): Promise<UserRow | undefined> {
	return db.kysely.selectFrom("users").selectAll().where("id", "=", id).executeTakeFirst();
}

/** The user with this email (case-insensitive), if any. */
export async function findUserByEmail(db: Db, email: string): Promise<UserRow | undefined> {
	return db.kysely.selectFrom("users").selectAll().where("email", "=", email.toLowerCase()).executeTakeFirst();
}

/** All users, oldest first. */
export async function listUsers(db: Db): Promise<UserRow[]> {
	return db.kysely.selectFrom("users").selectAll().orderBy("created_at").execute();
}
