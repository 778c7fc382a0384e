import type { Db } from "./connection.js";
import type { SecretTable } from "./schema.js";

/** A stored secret (value encrypted). */
export type SecretRow = SecretTable;

/** A user's secrets, by name. */
export async function listSecretRows(db: Db, userId: string): Promise<SecretRow[]> {
	return db.kysely.selectFrom("secrets").selectAll().where("user_id", "=", userId).orderBy("name").execute();
}

/** Inserts or replaces secrets in one transaction. */
export async function upsertSecretRows(db: Db, rows: SecretRow[]): Promise<void> {
	await db.kysely.transaction().execute(async (trx) => {
		for (const row of rows) {
			await trx
				.insertInto("secrets")
				.values(row)
				.onConflict((oc) =>
					oc.columns(["user_id", "name"]).doUpdateSet({ type: row.type, value: row.value, updated_at: row.updated_at }),
				)
				.execute();
		}
	});
}

/** Deletes some of a user's secrets; returns the names that existed. */
export async function deleteSecretRows(db: Db, userId: string, names: readonly string[]): Promise<string[]> {
	if (names.length === 0) return [];
	const existing = await db.kysely
		.selectFrom("secrets")
		.select("name")
		.where("user_id", "=", userId)
		.where("name", "in", names)
		.execute();
	const found = existing.map((r) => r.name);
	if (found.length > 0) {
		await db.kysely.deleteFrom("secrets").where("user_id", "=", userId).where("name", "in", found).execute();
	}
	return found;
}
