import type { Db } from "./connection.js";
import { uniquely } from "./connection.js";
import type { ShareTable } from "./schema.js";

/** A stored share. */
export type ShareRow = ShareTable;

/** A share with the names of its owner and target, for listings. */
export type ShareView = ShareRow & { owner_email: string; target_email: string | null; target_group: string | null };

/** The scope key of a share of one run. */
export function runScopeKey(workflowId: string): string {
	return `run:${workflowId}`;
}

/** The scope key of a share of every run of an owner's workflow name. */
export function nameScopeKey(ownerId: string, name: string): string {
	return `name:${ownerId}:${name}`;
}

/** The target key of a share with a user or a group. */
export function targetKey(target: { userId: string } | { groupId: string }): string {
	return "userId" in target ? `user:${target.userId}` : `group:${target.groupId}`;
}

/** Inserts a share; a second share of the same scope with the same target is a conflict. */
export async function insertShare(db: Db, row: ShareRow, conflictMessage: string): Promise<void> {
	await uniquely(conflictMessage, () => db.kysely.insertInto("shares").values(row).execute());
}

/** The share of a scope with a target, if any. */
export async function findShare(db: Db, scopeKey: string, target: string): Promise<ShareRow | undefined> {
	return db.kysely
		.selectFrom("shares")
		.selectAll()
		.where("scope_key", "=", scopeKey)
		.where("target_key", "=", target)
		.executeTakeFirst();
}

/** Deletes one share by id; returns whether it existed. */
export async function deleteShare(db: Db, id: string): Promise<boolean> {
	const res = await db.kysely.deleteFrom("shares").where("id", "=", id).executeTakeFirst();
	return Number(res.numDeletedRows) > 0;
}

function sharesWithNames(db: Db) {
	return db.kysely
		.selectFrom("shares")
		.innerJoin("users as owner", "owner.id", "shares.owner_id")
		.leftJoin("users as target", "target.id", "shares.target_user_id")
		.leftJoin("groups", "groups.id", "shares.target_group_id")
		.selectAll("shares")
		.select(["owner.email as owner_email", "target.email as target_email", "groups.name as target_group"]);
}

/** Every share that applies to a run: of the run itself, and of all runs of its name (expired ones included). */
export async function listSharesOfRun(
	db: Db,
	wf: { id: string; owner_id: string; name: string },
): Promise<ShareView[]> {
	return sharesWithNames(db)
		.where((eb) =>
			eb.or([
				eb("shares.scope_key", "=", runScopeKey(wf.id)),
				eb("shares.scope_key", "=", nameScopeKey(wf.owner_id, wf.name)),
			]),
		)
		.orderBy("shares.created_at")
		.execute();
}

/** The shares of many runs at once (for listings), keyed by run id; shares of a name appear under each run of it. */
export async function listSharesOfRuns(
	db: Db,
	runs: ReadonlyArray<{ id: string; owner_id: string; name: string }>,
): Promise<Map<string, ShareView[]>> {
	const out = new Map<string, ShareView[]>(runs.map((r) => [r.id, []]));
	if (runs.length === 0) return out;
	const keys = new Set<string>();
	for (const r of runs) {
		keys.add(runScopeKey(r.id));
		keys.add(nameScopeKey(r.owner_id, r.name));
	}
	const rows = await sharesWithNames(db)
		.where("shares.scope_key", "in", [...keys])
		.execute();
	for (const r of runs) {
		const mine = rows.filter(
			(s) => s.scope_key === runScopeKey(r.id) || s.scope_key === nameScopeKey(r.owner_id, r.name),
		);
		out.set(r.id, mine);
	}
	return out;
}

/** Live shares that reach a user directly or through one of their groups. */
export async function listSharesReaching(
	db: Db,
	userId: string,
	groupIds: readonly string[],
	now: string,
): Promise<ShareView[]> {
	return sharesWithNames(db)
		.where((eb) =>
			eb.or([
				eb("shares.target_user_id", "=", userId),
				...(groupIds.length > 0 ? [eb("shares.target_group_id", "in", groupIds)] : []),
			]),
		)
		.where((eb) => eb.or([eb("shares.expires_at", "is", null), eb("shares.expires_at", ">", now)]))
		.orderBy("shares.created_at")
		.execute();
}

/** Live shares an owner made. */
export async function listSharesByOwner(db: Db, ownerId: string, now: string): Promise<ShareView[]> {
	return sharesWithNames(db)
		.where("shares.owner_id", "=", ownerId)
		.where((eb) => eb.or([eb("shares.expires_at", "is", null), eb("shares.expires_at", ">", now)]))
		.orderBy("shares.created_at")
		.execute();
}
