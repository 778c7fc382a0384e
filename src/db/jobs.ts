import type { Kysely } from "kysely";
import type { Db } from "./connection.js";
import { uniquely } from "./connection.js";
import type { NewEvent } from "./events.js";
import type { Database, JobStatus, JobTable } from "./schema.js";

/** A stored job. */
export type JobRow = JobTable;

/** Job states in which a backend may still be working on the job. */
export const activeJobStatuses: readonly JobStatus[] = ["created", "queued", "running"];

/** Inserts a job; the same (workflow, key, attempt) twice is a conflict, which is what keeps a job from running twice. */
export async function insertJob(db: Db, job: JobRow): Promise<void> {
	await uniquely(`job ${job.key} attempt ${job.attempt} already exists`, () =>
		db.kysely.insertInto("jobs").values(job).execute(),
	);
}

/**
 * Persists new jobs in one transaction and returns those inserted: a row whose (workflow, key,
 * attempt) exists already — another writer decided the same — is skipped, which is what keeps a job
 * from running twice.
 */
export async function insertJobs(db: Db, jobs: readonly JobRow[]): Promise<JobRow[]> {
	if (jobs.length === 0) return [];
	const insertOne = async (q: Kysely<Database>, job: JobRow) =>
		(await q
			.insertInto("jobs")
			.values(job)
			.onConflict((oc) => oc.columns(["workflow_id", "key", "attempt"]).doNothing())
			.returning("id")
			.executeTakeFirst()) !== undefined;
	// One statement is atomic on its own: a serial chain's single job needs no transaction around it.
	if (jobs.length === 1) return (await insertOne(db.kysely, jobs[0] as JobRow)) ? [...jobs] : [];
	return db.kysely.transaction().execute(async (trx) => {
		const inserted: JobRow[] = [];
		for (const job of jobs) if (await insertOne(trx, job)) inserted.push(job);
		return inserted;
	});
}

/** Updates some fields of a job. */
export async function updateJob(db: Db, id: string, patch: Partial<Omit<JobRow, "id">>): Promise<void> {
	await db.kysely.updateTable("jobs").set(patch).where("id", "=", id).execute();
}

/** A change to one job and the events that tell of it. */
export interface JobUpdate {
	id: string;
	patch: Partial<Omit<JobRow, "id">>;
	events: readonly NewEvent[];
	/**
	 * The states the writer saw the job in: the change (and its events) applies only while the job is
	 * still in one of them, so a late writer (one whose lease ran out) cannot undo another's change.
	 */
	from?: readonly JobStatus[];
}

/**
 * Updates a job and appends the events that tell of it in one transaction: the run's log never lacks
 * (after a crash) or runs ahead of (for a reader) the job's state, and SQLite commits once, not twice.
 * False when `from` was given and the job was no longer in one of those states (nothing written).
 */
export async function updateJobWithEvents(
	db: Db,
	id: string,
	patch: Partial<Omit<JobRow, "id">>,
	events: readonly NewEvent[],
	from?: readonly JobStatus[],
): Promise<boolean> {
	const applied = await updateJobsWithEvents(db, [{ id, patch, events, ...(from ? { from } : {}) }]);
	return applied.has(id);
}

/**
 * Updates several jobs and appends their events in one transaction (one commit for all the jobs a
 * scheduler tick saw end or handed to a backend, instead of one each): all of them or none. An update
 * with `from` whose job has moved on is skipped with its events; returns the ids of the jobs updated.
 */
export async function updateJobsWithEvents(db: Db, updates: readonly JobUpdate[]): Promise<Set<string>> {
	const applied = new Set<string>();
	const updateOne = async (q: Kysely<Database>, u: JobUpdate) => {
		let query = q.updateTable("jobs").set(u.patch).where("id", "=", u.id);
		if (u.from) query = query.where("status", "in", u.from);
		const res = await query.executeTakeFirst();
		if (!u.from || Number(res.numUpdatedRows) > 0) applied.add(u.id);
	};
	const only = updates.length === 1 ? updates[0] : undefined;
	if (only && only.events.length === 0) {
		await updateOne(db.kysely, only);
		return applied;
	}
	if (updates.length === 0) return applied;
	await db.kysely.transaction().execute(async (trx) => {
		for (const u of updates) await updateOne(trx, u);
		const events = updates.flatMap((u) => (applied.has(u.id) ? u.events : []));
		// Chunked: a statement's parameters are limited (SQLite 32,766, PostgreSQL 65,535).
		for (let i = 0; i < events.length; i += 500)
			await trx
				.insertInto("events")
				.values(events.slice(i, i + 500))
				.execute();
	});
	return applied;
}

/** All jobs of a workflow in creation order. */
export async function listJobs(db: Db, workflowId: string): Promise<JobRow[]> {
	return db.kysely.selectFrom("jobs").selectAll().where("workflow_id", "=", workflowId).orderBy("seq").execute();
}

/** Some jobs of a workflow, by id, in creation order (ids of other workflows are ignored). */
export async function listJobsByIds(db: Db, workflowId: string, ids: readonly string[]): Promise<JobRow[]> {
	if (ids.length === 0) return [];
	return db.kysely
		.selectFrom("jobs")
		.selectAll()
		.where("workflow_id", "=", workflowId)
		.where("id", "in", ids)
		.orderBy("seq")
		.execute();
}

/** The jobs of a workflow in creation order, a page at a time. */
export async function listJobsPage(db: Db, workflowId: string, offset: number, limit: number): Promise<JobRow[]> {
	return db.kysely
		.selectFrom("jobs")
		.selectAll()
		.where("workflow_id", "=", workflowId)
		.orderBy("seq")
		.offset(offset)
		.limit(limit)
		.execute();
}

/** The job with this id, if any. */
export async function findJob(db: Db, id: string): Promise<JobRow | undefined> {
	return db.kysely.selectFrom("jobs").selectAll().where("id", "=", id).executeTakeFirst();
}
