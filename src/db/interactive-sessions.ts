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
 * Records a new session of a run, replacing one that has ended. False when the run has a session that
 * is starting or running (another request opened it first).
 */
export async function claimInteractiveSession(db: Db, row: InteractiveSessionRow): Promise<boolean> {
	return db.kysely.transaction().execute(async (trx) => {
		const existing = await trx
			.selectFrom("interactive_sessions")
			.select("status")
			.where("workflow_id", "=", row.workflow_id)
			.executeTakeFirst();
		if (existing && (existing.status === "starting" || existing.status === "running")) return false;
		if (existing) await trx.deleteFrom("interactive_sessions").where("workflow_id", "=", row.workflow_id).execute();
		await trx.insertInto("interactive_sessions").values(row).execute();
		return true;
	});
}

/** Changes a session's state. */
export async function updateInteractiveSession(
	db: Db,
	id: string,
	patch: Partial<Pick<InteractiveSessionRow, "status" | "port" | "pid" | "message" | "updated_at">>,
): Promise<void> {
	await db.kysely.updateTable("interactive_sessions").set(patch).where("id", "=", id).execute();
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

/** Sessions a server process may have left starting or running. */
export async function liveInteractiveSessions(db: Db): Promise<InteractiveSessionRow[]> {
	return db.kysely
		.selectFrom("interactive_sessions")
		.selectAll()
		.where("status", "in", ["starting", "running"])
		.execute();
}

/** A condition on a listing of runs: the run (its id column, `workflows.id` or an alias's) has a session running. */
export function hasRunningSession(idColumn: string): RawBuilder<boolean> {
	return sql<boolean>`exists (select 1 from interactive_sessions i where i.workflow_id = ${sql.ref(idColumn)} and i.status = 'running')`;
}
