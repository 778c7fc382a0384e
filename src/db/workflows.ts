import { sql } from "kysely";
import type { Db } from "./connection.js";
import { isUniqueViolation } from "./connection.js";
import { hasRunningSession } from "./interactive-sessions.js";
import type { WorkflowStatus, WorkflowTable } from "./schema.js";

/** A stored workflow run. */
export type WorkflowRow = WorkflowTable;

/** States the scheduler drives forward. */
export const activeWorkflowStatuses: readonly WorkflowStatus[] = ["queued", "pending", "running"];

/** Inserts a workflow as the next run of its name, retrying if another writer took the number first. */
export async function insertWorkflowRun(
	db: Db,
	row: Omit<WorkflowRow, "run_number" | "run_minor">,
	runMinorOf?: number,
): Promise<WorkflowRow> {
	for (let attempt = 0; ; attempt++) {
		const full: WorkflowRow =
			runMinorOf === undefined
				? { ...row, run_number: (await maxRun(db, row.owner_id, row.name)) + 1, run_minor: 0 }
				: { ...row, run_number: runMinorOf, run_minor: (await maxMinor(db, row.owner_id, row.name, runMinorOf)) + 1 };
		try {
			await db.kysely.insertInto("workflows").values(full).execute();
			return full;
		} catch (error) {
			if (!isUniqueViolation(error) || attempt >= 20) throw error;
		}
	}
}

/**
 * Inserts a restart (`NAME.RUN.MINOR`) unless another run is active in the same workspace: restarts
 * share their parent's workspace, and two at once would write into each other's files. A restart
 * just made and not yet started counts as active for `startingMs`. Returns the active run instead of
 * inserting. Restarts of one workspace are serialised: on PostgreSQL by locking the rows of that
 * workspace first, on SQLite by the transaction on its single connection.
 */
export async function insertRestartRun(
	db: Db,
	row: Omit<WorkflowRow, "run_number" | "run_minor">,
	runNumber: number,
	startingMs = 5 * 60_000,
): Promise<{ inserted: WorkflowRow } | { active: WorkflowRow }> {
	return db.kysely.transaction().execute(async (trx) => {
		if (db.dialect === "postgres")
			await trx
				.selectFrom("workflows")
				.select("id")
				.where("workspace_path", "=", row.workspace_path)
				.forUpdate()
				.execute();
		const startingSince = new Date(Date.parse(row.created_at) - startingMs).toISOString();
		const active = await trx
			.selectFrom("workflows")
			.selectAll()
			.where("workspace_path", "=", row.workspace_path)
			.where((eb) =>
				eb.or([
					eb("status", "in", ["queued", "pending", "running"]),
					eb.and([
						eb("status", "=", "created"),
						eb("restart_of", "is not", null),
						eb("created_at", ">", startingSince),
					]),
				]),
			)
			.executeTakeFirst();
		if (active) return { active };
		const minor = await trx
			.selectFrom("workflows")
			.select((eb) => eb.fn.max("run_minor").as("m"))
			.where("owner_id", "=", row.owner_id)
			.where("name", "=", row.name)
			.where("run_number", "=", runNumber)
			.executeTakeFirst();
		const full: WorkflowRow = { ...row, run_number: runNumber, run_minor: Number(minor?.m ?? 0) + 1 };
		await trx.insertInto("workflows").values(full).execute();
		return { inserted: full };
	});
}

async function maxRun(db: Db, ownerId: string, name: string): Promise<number> {
	const r = await db.kysely
		.selectFrom("workflows")
		.select((eb) => eb.fn.max("run_number").as("m"))
		.where("owner_id", "=", ownerId)
		.where("name", "=", name)
		.executeTakeFirst();
	return Number(r?.m ?? 0);
}

async function maxMinor(db: Db, ownerId: string, name: string, run: number): Promise<number> {
	const r = await db.kysely
		.selectFrom("workflows")
		.select((eb) => eb.fn.max("run_minor").as("m"))
		.where("owner_id", "=", ownerId)
		.where("name", "=", name)
		.where("run_number", "=", run)
		.executeTakeFirst();
	return Number(r?.m ?? 0);
}

/** The workflow with this id, if any. */
export async function findWorkflowById(db: Db, id: string): Promise<WorkflowRow | undefined> {
	return db.kysely.selectFrom("workflows").selectAll().where("id", "=", id).executeTakeFirst();
}

/** A user's run by name: `run` absent means the latest run of that name (deleted runs excluded). */
export async function findWorkflowByName(
	db: Db,
	ownerId: string,
	name: string,
	run?: number,
	minor?: number,
): Promise<WorkflowRow | undefined> {
	let q = db.kysely
		.selectFrom("workflows")
		.selectAll()
		.where("owner_id", "=", ownerId)
		.where("name", "=", name)
		.where("status", "!=", "deleted");
	if (run !== undefined) q = q.where("run_number", "=", run).where("run_minor", "=", minor ?? 0);
	return q.orderBy("run_number", "desc").orderBy("run_minor", "desc").limit(1).executeTakeFirst();
}

/** Filters and paging of a workflow listing. */
export interface WorkflowQuery {
	ownerId: string;
	statuses?: readonly WorkflowStatus[];
	/** Only runs whose name contains each of these, ignoring case (REANA's `ilike`). */
	search?: readonly string[];
	sort?: "asc" | "desc";
	offset: number;
	limit: number;
	includeDeleted?: boolean;
	/** Only runs of this exact id, or of this name (all runs, or one run when given). */
	id?: string;
	name?: string;
	run?: number;
	minor?: number;
	/** Only runs with an interactive session running (REANA's `type=interactive`). */
	withSession?: boolean;
}

/** The columns a listing needs: not the specification, parameters or outputs, which can be large. */
const listColumns = [
	"id",
	"name",
	"run_number",
	"run_minor",
	"owner_id",
	"type",
	"status",
	"status_message",
	"workspace_path",
	"progress",
	"created_at",
	"updated_at",
	"started_at",
	"finished_at",
	"disk_bytes",
] as const;

/** A run as a listing returns it (without its large columns). */
export type WorkflowListRow = Pick<WorkflowRow, (typeof listColumns)[number]>;

/** The condition that a name column contains a text, ignoring case, on both dialects (PostgreSQL's `like` heeds case). */
export function nameContains(column: "name" | "w.name", text: string) {
	const pattern = `%${text.toLowerCase().replace(/[%_\\]/g, (c) => `\\${c}`)}%`;
	return sql<boolean>`lower(${sql.ref(column)}) like ${pattern} escape '\\'`;
}

/** One page of a user's workflows and the total number that match. */
export async function listWorkflows(db: Db, q: WorkflowQuery): Promise<{ items: WorkflowListRow[]; total: number }> {
	let base = db.kysely.selectFrom("workflows").where("owner_id", "=", q.ownerId);
	if (q.statuses && q.statuses.length > 0) base = base.where("status", "in", q.statuses);
	else if (!q.includeDeleted) base = base.where("status", "!=", "deleted");
	for (const text of q.search ?? []) base = base.where(nameContains("name", text));
	if (q.id) base = base.where("id", "=", q.id);
	if (q.name) base = base.where("name", "=", q.name);
	if (q.run !== undefined) base = base.where("run_number", "=", q.run).where("run_minor", "=", q.minor ?? 0);
	if (q.withSession) base = base.where(hasRunningSession("workflows.id"));
	const dir = q.sort ?? "desc";
	const [items, count] = await Promise.all([
		base
			.select(listColumns)
			.orderBy("created_at", dir)
			.orderBy("run_number", dir)
			.orderBy("run_minor", dir)
			.offset(q.offset)
			.limit(q.limit)
			.execute(),
		base.select((eb) => eb.fn.countAll().as("n")).executeTakeFirst(),
	]);
	return { items, total: Number(count?.n ?? 0) };
}

/** Updates some fields of a workflow. */
export async function updateWorkflow(db: Db, id: string, patch: Partial<Omit<WorkflowRow, "id">>): Promise<void> {
	await db.kysely.updateTable("workflows").set(patch).where("id", "=", id).execute();
}

/**
 * Changes a workflow's status only if it is currently one of `from`; returns whether it did.
 * This compare-and-set is how concurrent requests (two starts, a start and a delete) stay consistent.
 * With `leaseOwner`, only while that scheduler instance holds the run's lease.
 */
export async function transitionWorkflow(
	db: Db,
	id: string,
	from: readonly WorkflowStatus[],
	patch: Partial<Omit<WorkflowRow, "id">> & { status?: WorkflowStatus },
	leaseOwner?: string,
): Promise<boolean> {
	let query = db.kysely.updateTable("workflows").set(patch).where("id", "=", id).where("status", "in", from);
	if (leaseOwner !== undefined) query = query.where("lease_owner", "=", leaseOwner);
	const res = await query.executeTakeFirst();
	return Number(res.numUpdatedRows) > 0;
}

/**
 * Leases up to `limit` active workflows to one scheduler instance. A workflow leased by another
 * live instance is skipped; an expired lease is taken over. The lease test is repeated in the outer
 * WHERE so that PostgreSQL re-checks it against a row another replica just updated.
 */
export async function claimWorkflows(
	db: Db,
	owner: string,
	now: string,
	until: string,
	limit: number,
): Promise<WorkflowRow[]> {
	const free = sql<boolean>`(lease_owner IS NULL OR lease_owner = ${owner} OR lease_expires_at < ${now})`;
	const candidates = db.kysely
		.selectFrom("workflows")
		.select("id")
		.where("status", "in", activeWorkflowStatuses)
		.where(free)
		.orderBy("updated_at")
		.limit(limit);
	return db.kysely
		.updateTable("workflows")
		.set({ lease_owner: owner, lease_expires_at: until })
		.where("id", "in", candidates)
		.where("status", "in", activeWorkflowStatuses)
		.where(free)
		.returningAll()
		.execute();
}

/**
 * The active workflows one scheduler instance holds a lease on that lasts beyond `until`: what a
 * tick works on between two claims (a read, where a claim rewrites every leased row).
 */
export async function listLeasedWorkflows(db: Db, owner: string, until: string, limit: number): Promise<WorkflowRow[]> {
	return db.kysely
		.selectFrom("workflows")
		.selectAll()
		.where("status", "in", activeWorkflowStatuses)
		.where("lease_owner", "=", owner)
		.where("lease_expires_at", ">", until)
		.orderBy("updated_at")
		.limit(limit)
		.execute();
}

/** Gives up a lease (on clean shutdown, or when a workflow stops being active). */
export async function releaseLease(db: Db, id: string, owner: string): Promise<void> {
	await db.kysely
		.updateTable("workflows")
		.set({ lease_owner: null, lease_expires_at: null })
		.where("id", "=", id)
		.where("lease_owner", "=", owner)
		.execute();
}
