import type { Db } from "./connection.js";
import type { JobCacheTable } from "./schema.js";

/** What a finished job changed in its workspace, under its cache key. */
export type JobCacheRow = JobCacheTable;

/** Records what a finished job changed; a job recorded already keeps its first entry. */
export async function insertCacheEntry(db: Db, row: JobCacheRow): Promise<void> {
	await db.kysely
		.insertInto("job_cache")
		.values(row)
		.onConflict((oc) => oc.column("job_id").doNothing())
		.execute();
}

/** A cache entry with the job and run it came from. */
export interface CacheCandidate extends JobCacheRow {
	/** The workspace of the run the entry's job belongs to (its files must lie there). */
	run_workspace: string;
	step_name: string;
	job_dir: string;
	run_name: string;
	run_number: number;
	run_minor: number;
}

/**
 * A user's entries under a key, newest first, of jobs that finished in runs that still exist (a
 * deleted run's workspace is gone or going).
 */
export async function findCacheEntries(db: Db, ownerId: string, key: string, limit = 5): Promise<CacheCandidate[]> {
	return candidates(db)
		.where("job_cache.owner_id", "=", ownerId)
		.where("job_cache.cache_key", "=", key)
		.orderBy("job_cache.created_at", "desc")
		.limit(limit)
		.execute();
}

/** The entry of one job, if it can still be used. */
export async function findCacheEntry(db: Db, jobId: string): Promise<CacheCandidate | undefined> {
	return candidates(db).where("job_cache.job_id", "=", jobId).executeTakeFirst();
}

/** Entries with their job and run, of jobs that finished in runs that still exist. */
function candidates(db: Db) {
	return db.kysely
		.selectFrom("job_cache")
		.innerJoin("jobs", "jobs.id", "job_cache.job_id")
		.innerJoin("workflows", "workflows.id", "jobs.workflow_id")
		.selectAll("job_cache")
		.select([
			"jobs.step_name as step_name",
			"jobs.job_dir as job_dir",
			"workflows.name as run_name",
			"workflows.run_number as run_number",
			"workflows.run_minor as run_minor",
			"workflows.workspace_path as run_workspace",
		])
		.where("jobs.status", "=", "finished")
		.where("workflows.status", "!=", "deleted");
}

/**
 * Names the job whose results a job (still `created`) is taking, or none: set before the files are put
 * in place, so that a server that dies meanwhile finishes the same reuse.
 */
export async function markJobReuse(db: Db, jobId: string, from: string | null): Promise<void> {
	await db.kysely
		.updateTable("jobs")
		.set({ cached_from: from })
		.where("id", "=", jobId)
		.where("status", "=", "created")
		.execute();
}

/** Forgets an entry whose files are gone from its workspace. */
export async function deleteCacheEntry(db: Db, jobId: string): Promise<void> {
	await db.kysely.deleteFrom("job_cache").where("job_id", "=", jobId).execute();
}

/** Forgets the entries of deleted runs (their workspaces are gone or going); returns how many. */
export async function pruneCacheEntries(db: Db): Promise<number> {
	const res = await db.kysely
		.deleteFrom("job_cache")
		.where("job_id", "in", (eb) =>
			eb
				.selectFrom("jobs")
				.innerJoin("workflows", "workflows.id", "jobs.workflow_id")
				.select("jobs.id")
				.where("workflows.status", "=", "deleted"),
		)
		.executeTakeFirst();
	return Number(res.numDeletedRows);
}
