import type { Db } from "./connection.js";
import type { EventTable } from "./schema.js";

/** A stored event of a workflow's log. */
export interface EventRow {
	id: number;
	workflow_id: string;
	job_id: string | null;
	at: string;
	level: EventTable["level"];
	type: string;
	message: string;
}

/** A new event, before the database gives it its id. */
export type NewEvent = Omit<EventRow, "id">;

/** Appends events to workflows' logs. */
export async function appendEvents(db: Db, events: NewEvent[]): Promise<void> {
	if (events.length === 0) return;
	await db.kysely.insertInto("events").values(events).execute();
}

/** A workflow's events in order, optionally only those after a given id (for following). */
export async function listEvents(db: Db, workflowId: string, afterId = 0): Promise<EventRow[]> {
	const rows = await db.kysely
		.selectFrom("events")
		.selectAll()
		.where("workflow_id", "=", workflowId)
		.where("id", ">", afterId)
		.orderBy("id")
		.execute();
	return rows.map((r) => ({ ...r, id: Number(r.id) }));
}
