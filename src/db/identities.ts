import type { Db } from "./connection.js";
import { uniquely } from "./connection.js";
import type { IdentityTable, UserTable } from "./schema.js";

/** A stored provider identity (issuer + subject → user). */
export type IdentityRow = IdentityTable;

/** The user behind a provider identity, if it has logged in before. */
export async function findUserByIdentity(db: Db, issuer: string, subject: string): Promise<UserTable | undefined> {
	return db.kysely
		.selectFrom("identities")
		.innerJoin("users", "users.id", "identities.user_id")
		.selectAll("users")
		.where("identities.issuer", "=", issuer)
		.where("identities.subject", "=", subject)
		.executeTakeFirst();
}

/** Links a provider identity to a user; a second link of the same identity is a conflict. */
export async function insertIdentity(db: Db, row: IdentityRow): Promise<void> {
	await uniquely(`the identity ${row.subject} of ${row.issuer} is already linked to a user`, () =>
		db.kysely.insertInto("identities").values(row).execute(),
	);
}

/** Records a login of an identity. */
export async function touchIdentity(db: Db, issuer: string, subject: string, at: string): Promise<void> {
	await db.kysely
		.updateTable("identities")
		.set({ last_login_at: at })
		.where("issuer", "=", issuer)
		.where("subject", "=", subject)
		.execute();
}

/** Updates a user's name, email and role as the provider now reports them. */
export async function updateUserProfile(
	db: Db,
	userId: string,
	patch: Partial<Pick<UserTable, "email" | "full_name" | "role">>,
): Promise<void> {
	if (Object.keys(patch).length === 0) return;
	await uniquely(`a user with the email ${patch.email} already exists`, () =>
		db.kysely.updateTable("users").set(patch).where("id", "=", userId).execute(),
	);
}
