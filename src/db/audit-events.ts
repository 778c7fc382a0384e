import type { Db } from "./connection.js";
import type { AuditEventTable } from "./schema.js";

/** A stored audit event. */
export type AuditEventRow = Omit<AuditEventTable, "id"> & { id: number };

/** An audit event to record. */
export type NewAuditEvent = Omit<AuditEventTable, "id">;

/** Appends one event to the audit log. */
export async function appendAuditEvent(db: Db, event: NewAuditEvent): Promise<void> {
	await db.kysely.insertInto("audit_events").values(event).execute();
}

/** Filters of an audit log listing. */
export interface AuditQuery {
	types?: readonly string[];
	actorId?: string;
	/** Only events after this id (for following). */
	afterId?: number;
	/** Only events at or after this time (ISO). */
	since?: string;
	limit: number;
}

/** Audit events, newest first. */
export async function listAuditEvents(db: Db, q: AuditQuery): Promise<AuditEventRow[]> {
	let query = db.kysely.selectFrom("audit_events").selectAll();
	if (q.types && q.types.length > 0) query = query.where("type", "in", q.types);
	if (q.actorId) query = query.where("actor_id", "=", q.actorId);
	if (q.afterId !== undefined) query = query.where("id", ">", q.afterId);
	if (q.since) query = query.where("at", ">=", q.since);
	const rows = await query.orderBy("id", "desc").limit(q.limit).execute();
	return rows.map((r) => ({ ...r, id: Number(r.id) }));
}
