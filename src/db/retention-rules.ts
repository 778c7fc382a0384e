import type { Db } from "./connection.js";
import type { RetentionRuleTable } from "./schema.js";

/** A stored retention rule. */
export type RetentionRuleRow = RetentionRuleTable;

/** Records a run's retention rules. */
export async function insertRetentionRules(db: Db, rows: RetentionRuleRow[]): Promise<void> {
	if (rows.length > 0) await db.kysely.insertInto("retention_rules").values(rows).execute();
}

/** A run's retention rules, shortest retention first. */
export async function listRetentionRules(db: Db, workflowId: string): Promise<RetentionRuleRow[]> {
	return db.kysely
		.selectFrom("retention_rules")
		.selectAll()
		.where("workflow_id", "=", workflowId)
		.orderBy("retention_days")
		.orderBy("pattern")
		.execute();
}

/** Activates a run's rules when it ends: each applies `retention_days` after `endedAt`. */
export async function activateRetentionRules(db: Db, workflowId: string, endedAt: Date): Promise<void> {
	const rules = await listRetentionRules(db, workflowId);
	for (const r of rules) {
		if (r.status !== "created") continue;
		const applyOn = new Date(endedAt.getTime() + r.retention_days * 86_400_000).toISOString();
		await db.kysely
			.updateTable("retention_rules")
			.set({ status: "active", apply_on: applyOn })
			.where("id", "=", r.id)
			.execute();
	}
}

/** Active rules whose day has come, oldest first; `after` (the last rule of the previous page) pages on. */
export async function dueRetentionRules(
	db: Db,
	now: string,
	limit = 100,
	after?: Pick<RetentionRuleRow, "apply_on" | "id">,
): Promise<RetentionRuleRow[]> {
	let query = db.kysely
		.selectFrom("retention_rules")
		.selectAll()
		.where("status", "=", "active")
		.where("apply_on", "<=", now);
	if (after?.apply_on)
		query = query.where((eb) =>
			eb.or([
				eb("apply_on", ">", after.apply_on as string),
				eb.and([eb("apply_on", "=", after.apply_on as string), eb("id", ">", after.id)]),
			]),
		);
	return query.orderBy("apply_on").orderBy("id").limit(limit).execute();
}

/** Marks a rule applied (or inactive when its run is gone). */
export async function markRetentionRule(db: Db, id: string, status: RetentionRuleRow["status"]): Promise<void> {
	await db.kysely.updateTable("retention_rules").set({ status }).where("id", "=", id).execute();
}
