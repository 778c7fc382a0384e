import { createHash } from "node:crypto";
import { join } from "node:path";
import { jobFiles } from "../backends/index.js";
import { type Clock, isoNow, type Logger } from "../common/index.js";
import {
	type CacheCandidate,
	type Db,
	deleteCacheEntry,
	findCacheEntries,
	findJob,
	insertCacheEntry,
	type JobRow,
	type WorkflowRow,
} from "../db/index.js";
import type { JobRequest, JobReuse } from "../engines/index.js";
import {
	type AppliedChanges,
	applyChanges,
	changesBetween,
	copyJobFiles,
	FileDigests,
	internalDir,
	type Manifest,
	type ManifestEntry,
	makeFolderIn,
	manifestDigest,
	type WorkspaceChanges,
} from "../storage/index.js";

/** Bumped when what goes into a key changes: entries made under an older rule never match. */
const keyVersion = 1;

/** What became of a job's cache check. */
export type CacheDecision =
	| { hit: false }
	| {
			hit: true;
			from: CacheCandidate;
			applied: AppliedChanges;
			changes: WorkspaceChanges;
			/** What made the jobs the same, in words for the run's log. */
			basis: string;
	  };

/** A job sent to run after a miss: what its workspace held before, to record what it changed. */
interface Running {
	jobId: string;
	key: string;
	before: Manifest;
}

/**
 * Reuses the results of earlier jobs (CACHE=on). A job's key is what it runs (command, image, working
 * folder, environment) and the content of its workspace before it runs (every file's SHA-256 and
 * every link's target; Orrery's own folder left out). When a job ends well, what it changed in the
 * workspace is recorded under its key; a later job of the same owner with the same key gets those
 * changes copied from that workspace, checked against their SHA-256, instead of running.
 *
 * Checks scan and hash the workspace, which can take long: they run beside the scheduler's ticks,
 * which ask again (`check` answers `busy` meanwhile) and are woken when a check is done. A run's jobs
 * run one at a time (serial), so the scan before a job is also the scan after the one before it.
 * Nothing here needs to survive a restart: a job whose scan from before it ran is lost is simply not
 * recorded, and a check is made again.
 */
export class JobCaching {
	private readonly digests = new FileDigests();
	private readonly checks = new Map<string, Promise<void>>();
	private readonly decided = new Map<string, CacheDecision>();
	private readonly running = new Map<string, Running>();
	/** Runs whose last job's changes are being recorded, and those done. */
	private readonly settling = new Map<string, Promise<void>>();
	private readonly settled = new Set<string>();

	constructor(
		private readonly deps: { db: Db; clock: Clock; logger: Logger },
		private readonly wake: () => void,
	) {}

	/** Keys of the jobs sent to run after a miss whose folder is their result, by run and job. */
	private readonly folderKeys = new Map<string, Map<string, string>>();

	/** True when a job may be taken from the cache (its run asked for it). */
	static applies(job: JobRow): boolean {
		const request = requestOf(job);
		return request?.cacheable === true || request?.reuse !== undefined;
	}

	/** What to do with a created job: `busy` while its check runs (the scheduler is woken after). */
	check(wf: WorkflowRow, job: JobRow): CacheDecision | "busy" {
		const decided = this.decided.get(job.id);
		if (decided) {
			this.decided.delete(job.id);
			return decided;
		}
		if (!this.checks.has(job.id)) {
			const task = this.decide(wf, job)
				.catch((error: unknown) => {
					// A check that failed (a file unreadable, the database away) runs the job: never worse than no cache.
					this.deps.logger.warn({ err: error, job: job.id }, "cache check failed; the job runs");
					return { hit: false } as const;
				})
				.then((decision) => {
					this.decided.set(job.id, decision);
					this.checks.delete(job.id);
					this.wake();
				});
			this.checks.set(job.id, task);
		}
		return "busy";
	}

	/**
	 * Before a run is declared finished: records what its last job changed. `busy` while that is under
	 * way, `ready` once done (at once when nothing is to be recorded).
	 */
	settle(wf: WorkflowRow): "busy" | "ready" {
		if (this.settled.has(wf.id)) return "ready";
		if (!this.running.has(wf.id)) return "ready";
		if (!this.settling.has(wf.id)) {
			const task = (async () => {
				const after = await this.digests.scan(wf.workspace_path);
				await this.recordRunning(wf, after);
			})()
				.catch((error: unknown) =>
					this.deps.logger.warn({ err: error, workflow: wf.id }, "recording a job for the cache failed"),
				)
				.then(() => {
					this.settled.add(wf.id);
					this.settling.delete(wf.id);
					this.wake();
				});
			this.settling.set(wf.id, task);
		}
		return "busy";
	}

	/** Forgets what is held for a run that ended or went to another server. */
	forget(workflowId: string): void {
		this.running.delete(workflowId);
		this.settled.delete(workflowId);
		this.folderKeys.delete(workflowId);
	}

	/**
	 * After a job whose folder is its result (`JobRequest.reuse`) ended well and was collected: records
	 * that folder's files under the job's key, in the background. A folder holding symbolic links is not
	 * recorded (they may point into the folders of its run).
	 */
	recordFolder(wf: WorkflowRow, job: JobRow): void {
		const key = this.folderKeys.get(wf.id)?.get(job.id);
		const reuse = requestOf(job)?.reuse;
		if (key === undefined || !reuse) return;
		this.folderKeys.get(wf.id)?.delete(job.id);
		const folder = join(wf.workspace_path, reuse.folder);
		const isScratch = (path: string) => reuse.scratch.some((s) => path === s || path.startsWith(`${s}/`));
		(async () => {
			const written: Record<string, ManifestEntry> = {};
			for (const [path, entry] of await this.digests.scan(folder)) {
				if (isScratch(path)) continue;
				if ("link" in entry) return;
				written[path] = entry;
			}
			await insertCacheEntry(this.deps.db, {
				job_id: job.id,
				owner_id: wf.owner_id,
				cache_key: key,
				workspace_path: folder,
				changes: JSON.stringify({ written, removed: [] } satisfies WorkspaceChanges),
				created_at: isoNow(this.deps.clock),
			});
		})().catch((error: unknown) =>
			this.deps.logger.warn({ err: error, job: job.id }, "recording a job's folder for the cache failed"),
		);
	}

	private decide(wf: WorkflowRow, job: JobRow): Promise<CacheDecision> {
		const reuse = requestOf(job)?.reuse;
		return reuse ? this.decideFolder(wf, job, reuse) : this.decideWorkspace(wf, job);
	}

	/** A job whose folder is its result: reused when an earlier one ran the same on files of the same content. */
	private async decideFolder(wf: WorkflowRow, job: JobRow, reuse: JobReuse): Promise<CacheDecision> {
		const key = await this.folderKey(wf, job, reuse);
		if (key === undefined) return { hit: false };
		const hit = await this.reuseFirst(wf, job, key, "same command, image and input files", async (changes, from) => {
			const target = await makeFolderIn(wf.workspace_path, reuse.folder);
			return applyChanges(target, from, changes, new Map(), join(wf.workspace_path, internalDir));
		});
		if (hit) return hit;
		const keys = this.folderKeys.get(wf.id) ?? new Map<string, string>();
		this.folderKeys.set(wf.id, keys.set(job.id, key));
		return { hit: false };
	}

	/**
	 * The key of a job whose folder is its result: its command, image and environment, and the content
	 * of every file and folder it reads, with this run's own paths written the same for every run (a
	 * restart's jobs have folders of their own, named alike).
	 */
	private async folderKey(wf: WorkflowRow, job: JobRow, reuse: JobReuse): Promise<string | undefined> {
		const ws = wf.workspace_path;
		const neutral = (text: string) =>
			text.split(`${ws}/${reuse.runFolder}/`).join("<run>/").split(`${ws}/`).join("<workspace>/");
		const reads: Array<[string, string]> = [];
		for (const path of reuse.reads) {
			const digest = await this.digests.digestPath(ws, path);
			if (digest === undefined) return undefined;
			reads.push([neutral(`${ws}/${path}`), digest]);
		}
		const request = requestOf(job);
		const what = JSON.stringify({
			v: keyVersion,
			command: neutral(job.command),
			image: job.image,
			env: Object.entries(request?.env ?? {})
				.map(([k, v]) => [k, neutral(v)])
				.sort(([a], [b]) => ((a as string) < (b as string) ? -1 : 1)),
			reads,
		});
		return createHash("sha256").update(what).digest("hex");
	}

	/**
	 * Tries a user's entries under a key, newest first: the first whose files `apply` could put in place
	 * is the hit (its logs are copied too). An entry whose files are gone or changed is dropped.
	 */
	private async reuseFirst(
		wf: WorkflowRow,
		job: JobRow,
		key: string,
		basis: string,
		apply: (changes: WorkspaceChanges, from: string) => Promise<AppliedChanges | undefined>,
	): Promise<Extract<CacheDecision, { hit: true }> | undefined> {
		for (const candidate of await findCacheEntries(this.deps.db, wf.owner_id, key)) {
			if (candidate.job_id === job.id) continue;
			const changes = JSON.parse(candidate.changes) as WorkspaceChanges;
			const applied = await apply(changes, candidate.workspace_path);
			if (!applied) {
				// Its workspace no longer holds what the job wrote: the entry can never be used again.
				await deleteCacheEntry(this.deps.db, candidate.job_id);
				continue;
			}
			await copyJobFiles(candidate.job_dir, wf.workspace_path, job.job_dir, [jobFiles.stdout, jobFiles.stderr]).catch(
				(error: unknown) => this.deps.logger.warn({ err: error, job: job.id }, "copying a cached job's logs failed"),
			);
			return { hit: true, from: candidate, applied, changes, basis };
		}
		return undefined;
	}

	/** A serial job: its key covers the whole workspace before it, and its result is what it changed there. */
	private async decideWorkspace(wf: WorkflowRow, job: JobRow): Promise<CacheDecision> {
		const before = await this.digests.scan(wf.workspace_path);
		await this.recordRunning(wf, before);
		const key = cacheKey(job, before);
		const hit = await this.reuseFirst(wf, job, key, "same command, image and workspace content", (changes, from) =>
			applyChanges(wf.workspace_path, from, changes, before),
		);
		if (hit) return hit;
		this.running.set(wf.id, { jobId: job.id, key, before });
		return { hit: false };
	}

	/** Records what the run's job that ran last changed, now that the workspace is `after`. */
	private async recordRunning(wf: WorkflowRow, after: Manifest): Promise<void> {
		const running = this.running.get(wf.id);
		if (!running) return;
		this.running.delete(wf.id);
		const job = await findJob(this.deps.db, running.jobId);
		if (job?.status !== "finished") return;
		await insertCacheEntry(this.deps.db, {
			job_id: job.id,
			owner_id: wf.owner_id,
			cache_key: running.key,
			workspace_path: wf.workspace_path,
			changes: JSON.stringify(changesBetween(running.before, after)),
			created_at: isoNow(this.deps.clock),
		});
	}
}

function requestOf(job: JobRow): Omit<JobRequest, "resources"> | undefined {
	try {
		return (JSON.parse(job.resources) as { request?: Omit<JobRequest, "resources"> }).request;
	} catch {
		return undefined;
	}
}

/** A job's cache key: what it runs, and on what. */
export function cacheKey(job: JobRow, before: Manifest): string {
	const request = requestOf(job);
	const what = JSON.stringify({
		v: keyVersion,
		command: job.command,
		image: job.image,
		workdir: request?.workdir ?? null,
		env: Object.entries(request?.env ?? {}).sort(([a], [b]) => (a < b ? -1 : 1)),
	});
	return createHash("sha256").update(what).update("\0").update(manifestDigest(before)).digest("hex");
}
