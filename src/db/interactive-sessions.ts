import { type RawBuilder, sql } from "kysely";
import type { Db } from "./connection.js";
import type { InteractiveSessionTable } from "./schema.js";

/** A run's interactive session as stored. */
export type InteractiveSessionRow = InteractiveSessionTable;

/** The session of a run, if it ever had one. */
export async function findInteractiveSession(db: Db, workflowId: string): Promise<InteractiveSessionRow | undefined> {
	return db.kysely
		.selectFrom("interactive_sessions")
		.selectAll()
		.where("workflow_id", "=", workflowId)
		.executeTakeFirst();
}

/** A session by its own id (its address). */
export async function findInteractiveSessionById(db: Db, id: string): Promise<InteractiveSessionRow | undefined> {
	return db.kysely.selectFrom("interactive_sessions").selectAll().where("id", "=", id).executeTakeFirst();
}

/**
 * Records a new session of a run, replacing one that has ended, in one statement (two servers opening
 * the same run at once: one wins). False when the run has a session that is starting or running, or
 * one closed whose process its host has not stopped yet (the row is how that host finds it).
 */
export async function claimInteractiveSession(db: Db, row: InteractiveSessionRow): Promise<boolean> {
	const { workflow_id: _, ...rest } = row;
	const claimed = await db.kysely
		.insertInto("interactive_sessions")
		.values(row)
		.onConflict((oc) =>
			oc
				.column("workflow_id")
				.doUpdateSet(rest)
				.where("interactive_sessions.status", "not in", ["starting", "running"])
				.where((eb) =>
					eb.or([eb("interactive_sessions.status", "!=", "stopped"), eb("interactive_sessions.pid", "is", null)]),
				),
		)
		.returning("id")
		.executeTakeFirst();
	return claimed?.id === row.id;
}

/** Changes a session's state, when it is in one of `from` (all states when absent); false when it was not. */
export async function updateInteractiveSession(
	db: Db,
	id: string,
	patch: Partial<Pick<InteractiveSessionRow, "status" | "port" | "pid" | "message" | "updated_at">>,
	from?: ReadonlyArray<InteractiveSessionRow["status"]>,
): Promise<boolean> {
	let q = db.kysely.updateTable("interactive_sessions").set(patch).where("id", "=", id);
	if (from) q = q.where("status", "in", from);
	const result = await q.executeTakeFirst();
	return Number(result.numUpdatedRows) > 0;
}

/** The sessions of these runs, by run id. */
export async function interactiveSessionsOf(
	db: Db,
	workflowIds: readonly string[],
): Promise<Map<string, InteractiveSessionRow>> {
	if (workflowIds.length === 0) return new Map();
	const rows = await db.kysely
		.selectFrom("interactive_sessions")
		.selectAll()
		.where("workflow_id", "in", workflowIds)
		.execute();
	return new Map(rows.map((r) => [r.workflow_id, r]));
}

/**
 * The sessions of one host that may have processes: starting or running, or stopped (closed from
 * another host) with their process not yet stopped.
 */
export async function liveInteractiveSessions(db: Db, host: string): Promise<InteractiveSessionRow[]> {
	return db.kysely
		.selectFrom("interactive_sessions")
		.selectAll()
		.where("host", "=", host)
		.where((eb) =>
			eb.or([
				eb("status", "in", ["starting", "running"]),
				eb.and([eb("status", "=", "stopped"), eb("pid", "is not", null)]),
			]),
		)
		.execute();
}

/** A condition on a listing of runs: the run (its id column, `workflows.id` or an alias's) has a session running. */
export function hasRunningSession(idColumn: string): RawBuilder<boolean> {
	return sql<boolean>`exists (select 1 from interactive_sessions i where i.workflow_id = ${sql.ref(idColumn)} and i.status = 'running')`;
}
