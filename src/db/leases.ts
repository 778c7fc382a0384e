import { type RawBuilder, sql } from "kysely";
import type { Db } from "./connection.js";
import type { WorkflowStatus } from "./schema.js";
import type { WorkflowRow } from "./workflows.js";
import { activeWorkflowStatuses, transitionWorkflow } from "./workflows.js";

/**
 * The database's time `offsetMs` from now, written as `Date.toISOString` writes it (how leases are
 * stored): replicas on several hosts compare their leases against one clock, not each their own.
 */
function databaseTime(db: Db, offsetMs = 0): RawBuilder<string> {
	if (db.dialect === "sqlite")
		return sql<string>`strftime('%Y-%m-%dT%H:%M:%fZ', 'now', ${`${offsetMs / 1000} seconds`})`;
	return sql<string>`to_char((clock_timestamp() at time zone 'UTC') + ${`${offsetMs} milliseconds`}::interval, 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;
}

/**
 * Checks that `owner` still holds the lease on an active run and extends it by `leaseMs`, in one
 * statement, by the database's clock. False when the lease is gone (expired, or taken by another
 * instance): the caller must then neither touch the run's jobs nor write its state.
 */
export async function renewLease(db: Db, id: string, owner: string, leaseMs: number): Promise<boolean> {
	const res = await db.kysely
		.updateTable("workflows")
		.set({ lease_expires_at: databaseTime(db, leaseMs) })
		.where("id", "=", id)
		.where("lease_owner", "=", owner)
		.where("lease_expires_at", ">", databaseTime(db))
		.where("status", "in", activeWorkflowStatuses)
		.executeTakeFirst();
	return Number(res.numUpdatedRows) > 0;
}

/**
 * Changes the status of a run that `owner` leases, only if it is one of `from`; returns whether it
 * did. A scheduler whose lease went to another instance changes nothing (and records no event).
 */
export async function transitionLeasedWorkflow(
	db: Db,
	id: string,
	owner: string,
	from: readonly WorkflowStatus[],
	patch: Partial<Omit<WorkflowRow, "id">> & { status?: WorkflowStatus },
): Promise<boolean> {
	return transitionWorkflow(db, id, from, patch, owner);
}
