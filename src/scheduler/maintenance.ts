import { hostname } from "node:os";
import { pruneCacheEntries } from "../db/index.js";
import { recordRunEnd } from "./accounting.js";
import { applyDueRetentionRules } from "./retention.js";
import type { SchedulerDeps } from "./scheduler-settings.js";

/**
 * Frees the leases of dead server processes on this host (`host:pid` owners whose pid is gone),
 * so a server restarted after a crash resumes at once instead of waiting for the leases to expire.
 * True when there were any.
 */
export async function reclaimDeadLocalLeases(deps: SchedulerDeps, instanceId: string): Promise<boolean> {
	const prefix = `${hostname()}:`;
	const owners = await deps.db.kysely
		.selectFrom("workflows")
		.select("lease_owner")
		.distinct()
		.where("lease_owner", "is not", null)
		.where("lease_owner", "!=", instanceId)
		.where("lease_owner", "like", `${prefix}%`)
		.execute();
	let freed = false;
	for (const { lease_owner: owner } of owners) {
		const pid = Number(owner?.slice(prefix.length));
		if (!owner || !Number.isInteger(pid) || pid <= 0 || isProcessAlive(pid)) continue;
		freed = true;
		deps.logger.info({ owner }, "taking over the workflows of a dead server process");
		await deps.db.kysely
			.updateTable("workflows")
			.set({ lease_owner: null, lease_expires_at: null })
			.where("lease_owner", "=", owner)
			.execute();
	}
	return freed;
}

/**
 * Periodic work: accounting for ended runs that were never measured (the server died in between),
 * retention rules whose day has come, and cache entries of deleted runs.
 */
export async function maintain(deps: SchedulerDeps, now: Date): Promise<void> {
	const { db, logger, clock } = deps;
	const unmeasured = await db.kysely
		.selectFrom("workflows")
		.selectAll()
		.where("status", "in", ["finished", "failed", "stopped"])
		.where("disk_bytes", "is", null)
		.limit(50)
		.execute();
	for (const wf of unmeasured)
		await recordRunEnd(db, clock, wf).catch((error) => logger.warn({ err: error }, "accounting failed"));
	await applyDueRetentionRules(db, now, logger);
	// Cache entries of deleted runs can never be used again (CACHE=on, caching.md).
	await pruneCacheEntries(db).catch((error) => logger.warn({ err: error }, "pruning cache entries failed"));
}

function isProcessAlive(pid: number): boolean {
	try {
		process.kill(pid, 0);
		return true;
	} catch (error) {
		return (error as NodeJS.ErrnoException).code === "EPERM";
	}
}
