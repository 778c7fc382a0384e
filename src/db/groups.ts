import { newId } from "../common/index.js";
import type { Db } from "./connection.js";
import type { GroupTable } from "./schema.js";

/** A stored group. */
export type GroupRow = GroupTable;

/** The groups with these names, created if missing (several servers may create the same one at once). */
export async function ensureGroups(db: Db, names: readonly string[], at: string): Promise<GroupRow[]> {
	const unique = [...new Set(names)];
	if (unique.length === 0) return [];
	await db.kysely
		.insertInto("groups")
		.values(unique.map((name) => ({ id: newId(), name, created_at: at })))
		.onConflict((oc) => oc.column("name").doNothing())
		.execute();
	return db.kysely.selectFrom("groups").selectAll().where("name", "in", unique).execute();
}

/** The group with this name, if any. */
export async function findGroupByName(db: Db, name: string): Promise<GroupRow | undefined> {
	return db.kysely.selectFrom("groups").selectAll().where("name", "=", name).executeTakeFirst();
}

/** Makes the user a member of exactly these groups (the claims of their latest login). */
export async function replaceMemberships(
	db: Db,
	userId: string,
	groupIds: readonly string[],
	at: string,
): Promise<void> {
	await db.kysely.transaction().execute(async (tx) => {
		let del = tx.deleteFrom("memberships").where("user_id", "=", userId);
		if (groupIds.length > 0) del = del.where("group_id", "not in", groupIds);
		await del.execute();
		if (groupIds.length === 0) return;
		await tx
			.insertInto("memberships")
			.values(groupIds.map((group_id) => ({ user_id: userId, group_id, refreshed_at: at })))
			.onConflict((oc) => oc.columns(["user_id", "group_id"]).doUpdateSet({ refreshed_at: at }))
			.execute();
	});
}

/** The ids of the user's groups. */
export async function listGroupIdsOfUser(db: Db, userId: string): Promise<string[]> {
	const rows = await db.kysely.selectFrom("memberships").select("group_id").where("user_id", "=", userId).execute();
	return rows.map((r) => r.group_id);
}

/** The user's groups, by name. */
export async function listGroupsOfUser(db: Db, userId: string): Promise<GroupRow[]> {
	return db.kysely
		.selectFrom("groups")
		.innerJoin("memberships", "memberships.group_id", "groups.id")
		.selectAll("groups")
		.where("memberships.user_id", "=", userId)
		.orderBy("groups.name")
		.execute();
}
