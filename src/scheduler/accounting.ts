import { type Clock, isoNow } from "../common/index.js";
import {
	activateRetentionRules,
	type Db,
	listQuotas,
	type QuotaResource,
	setQuotaUsage,
	updateWorkflow,
	type WorkflowRow,
} from "../db/index.js";
import { diskUsage } from "../storage/index.js";

/**
 * What happens when a run ends: its workspace is measured, its retention rules start counting, and
 * its owner's usage is recomputed from all their runs (so repeated or concurrent updates agree).
 */
export async function recordRunEnd(db: Db, clock: Clock, wf: WorkflowRow): Promise<void> {
	// The rules first: measuring a large workspace takes a while, and their days count from the end.
	await activateRetentionRules(db, wf.id, clock.now());
	const bytes = await diskUsage(wf.workspace_path).catch(() => 0);
	await updateWorkflow(db, wf.id, { disk_bytes: bytes });
	await recomputeUsage(db, clock, wf.owner_id);
}

/** Recomputes a user's CPU usage (total wall time of their runs, ms) and disk usage (bytes of their live workspaces). */
export async function recomputeUsage(db: Db, clock: Clock, userId: string): Promise<{ cpu: number; disk: number }> {
	const runs = await db.kysely
		.selectFrom("workflows")
		.select(["started_at", "finished_at", "workspace_path", "disk_bytes", "status", "updated_at"])
		.where("owner_id", "=", userId)
		.execute();
	let cpu = 0;
	const disk = new Map<string, number>();
	for (const r of runs) {
		if (r.started_at && r.finished_at) cpu += Math.max(0, Date.parse(r.finished_at) - Date.parse(r.started_at));
		// Runs that share a workspace (restarts) count it once, at its latest measurement.
		if (r.status !== "deleted" && r.disk_bytes !== null) disk.set(r.workspace_path, Number(r.disk_bytes));
	}
	const usage = { cpu, disk: [...disk.values()].reduce((a, b) => a + b, 0) };
	const at = isoNow(clock);
	await setQuotaUsage(db, userId, "cpu", usage.cpu, at);
	await setQuotaUsage(db, userId, "disk", usage.disk, at);
	return usage;
}

/** A resource whose usage has reached its limit, if any (a limit of 0 is no limit). */
export async function exceededQuota(
	db: Db,
	userId: string,
): Promise<{ resource: QuotaResource; usage: number; limit: number } | undefined> {
	for (const q of await listQuotas(db, userId)) {
		if (q.limit > 0 && q.usage >= q.limit) return { resource: q.resource, usage: q.usage, limit: q.limit };
	}
	return undefined;
}

/** Measures a workspace again after files were added or removed outside a run (prune, uploads). */
export async function remeasure(db: Db, clock: Clock, wf: WorkflowRow): Promise<void> {
	await updateWorkflow(db, wf.id, { disk_bytes: await diskUsage(wf.workspace_path).catch(() => 0) });
	await recomputeUsage(db, clock, wf.owner_id);
}
