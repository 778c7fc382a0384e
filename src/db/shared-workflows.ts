import { sql } from "kysely";
import type { Db } from "./connection.js";
import { hasRunningSession } from "./interactive-sessions.js";
import { nameContains, type WorkflowQuery, type WorkflowRow } from "./workflows.js";

/** Which runs a user may see in a listing: their own, those shared with them (directly or through a group), or both. */
export interface AccessibleWorkflowQuery {
	userId: string;
	groupIds: readonly string[];
	/** Shares that expired before this time (ISO) do not count. */
	now: string;
	/** `own-and-shared` (REANA's `shared=true`) or `shared-with-me` (only runs of others shared with the user). */
	include: "own-and-shared" | "shared-with-me";
	/** Only runs of this owner (REANA's `shared_by`). */
	ownerId?: string;
	/** Only the user's own runs that are shared with this target key (REANA's `shared_with`). */
	sharedWithTarget?: string;
}

/** One page of the runs a user may see and the total that match. */
export async function listAccessibleWorkflows(
	db: Db,
	access: AccessibleWorkflowQuery,
	q: Omit<WorkflowQuery, "ownerId">,
): Promise<{ items: WorkflowRow[]; total: number }> {
	// A share reaches a run when it is live and names the run, or every run of its name.
	const sharesOf = (target: "me" | string) =>
		db.kysely
			.selectFrom("shares as s")
			.select("s.id")
			.where((eb) =>
				eb.and([
					eb.or([eb("s.expires_at", "is", null), eb("s.expires_at", ">", access.now)]),
					eb.or([
						eb("s.workflow_id", "=", sql.ref<string>("w.id")),
						eb.and([
							eb("s.workflow_id", "is", null),
							eb("s.owner_id", "=", sql.ref<string>("w.owner_id")),
							eb("s.workflow_name", "=", sql.ref<string>("w.name")),
						]),
					]),
					target === "me"
						? eb.or([
								eb("s.target_user_id", "=", access.userId),
								...(access.groupIds.length > 0 ? [eb("s.target_group_id", "in", access.groupIds)] : []),
							])
						: eb("s.target_key", "=", target),
				]),
			);
	let base = db.kysely.selectFrom("workflows as w").where((eb) => {
		if (access.sharedWithTarget !== undefined) {
			return eb.and([eb("w.owner_id", "=", access.userId), eb.exists(sharesOf(access.sharedWithTarget))]);
		}
		if (access.include === "shared-with-me")
			return eb.and([eb("w.owner_id", "!=", access.userId), eb.exists(sharesOf("me"))]);
		return eb.or([eb("w.owner_id", "=", access.userId), eb.exists(sharesOf("me"))]);
	});
	if (access.ownerId) base = base.where("w.owner_id", "=", access.ownerId);
	if (q.statuses && q.statuses.length > 0) base = base.where("w.status", "in", q.statuses);
	else if (!q.includeDeleted) base = base.where("w.status", "!=", "deleted");
	for (const text of q.search ?? []) base = base.where(nameContains("w.name", text));
	if (q.id) base = base.where("w.id", "=", q.id);
	if (q.name) base = base.where("w.name", "=", q.name);
	if (q.run !== undefined) base = base.where("w.run_number", "=", q.run).where("w.run_minor", "=", q.minor ?? 0);
	if (q.withSession) base = base.where(hasRunningSession("w.id"));
	const dir = q.sort ?? "desc";
	const [items, count] = await Promise.all([
		base
			.selectAll("w")
			.orderBy("w.created_at", dir)
			.orderBy("w.run_number", dir)
			.orderBy("w.run_minor", dir)
			.offset(q.offset)
			.limit(q.limit)
			.execute(),
		base.select((eb) => eb.fn.countAll().as("n")).executeTakeFirst(),
	]);
	return { items, total: Number(count?.n ?? 0) };
}
