import { createHash } from "node:crypto";
import { realpath } from "node:fs/promises";
import { join, relative } from "node:path";
import { jobFiles } from "../backends/index.js";
import { type Clock, isoNow, type Logger } from "../common/index.js";
import {
	type CacheCandidate,
	type Db,
	deleteCacheEntry,
	findCacheEntries,
	findCacheEntry,
	findJob,
	insertCacheEntry,
	type JobRow,
	markJobReuse,
	type WorkflowRow,
} from "../db/index.js";
import type { JobRequest, JobReuse } from "../engines/index.js";
import {
	type AppliedChanges,
	applyChanges,
	changesBetween,
	copyJobFiles,
	FileDigests,
	type Manifest,
	type ManifestEntry,
	manifestDigest,
	type WorkspaceChanges,
	type WorkspaceFolder,
} from "../storage/index.js";

/** Checks that read files at once (each hashes at most `hashConcurrency` large files at a time). */
const maxChecks = 4;

/** Bumped when what goes into a key changes: entries made under an older rule never match. */
const keyVersion = 2;

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

/** What is held for one run while this server holds its lease; `abort` ends its checks when it is left. */
interface RunCache {
	abort: AbortController;
	checks: Map<string, Promise<void>>;
	decided: Map<string, CacheDecision>;
	/** The serial job sent to run after a miss (a serial run runs one at a time). */
	running?: Running | undefined;
	/** The keys of CWL jobs sent to run after a miss, by job. */
	folderKeys: Map<string, string>;
	/** Job folders being recorded: the run ends after them (a restart resumes from their entries). */
	records: Set<Promise<void>>;
	settling?: Promise<void> | undefined;
	isSettled: boolean;
}

/** A check that was cut off because its run was left (stopped, ended, or taken by another server). */
class RunLeftError extends Error {}

const basisOfWorkspace = "same command, image and workspace content";
const basisOfFolder = "same command, image and input files";

/**
 * Reuses the results of earlier jobs (CACHE=on). A job's key is what it runs (command, image, working
 * folder, environment) and what it runs on: for a serial step, every file (SHA-256 and permission bits),
 * link and folder of its workspace before it runs (Orrery's own folder left out); for a CWL tool, the
 * files it reads. When a job ends well, what it changed is recorded under its key; a later job of the
 * same owner with the same key gets those changes copied in, checked against their SHA-256, instead of
 * running.
 *
 * Checks scan and hash, which can take long: they run beside the scheduler's ticks, which ask again
 * (`check` answers `busy` meanwhile) and are woken when a check is done; a run that is left ends its
 * checks. A run's serial jobs run one at a time, so the scan before a job is also the scan after the
 * one before it. Before a job's files are put in place, the job's row names the job it reuses
 * (`cached_from`, still `created`): a server that dies while placing them puts the same files in
 * place again (those already there are skipped) instead of running the job on half of its results.
 */
export class JobCaching {
	private readonly digests = new FileDigests();
	private readonly runs = new Map<string, RunCache>();
	/** Checks running now, and those waiting for one of the `maxChecks` places. */
	private active = 0;
	private readonly waiting: Array<() => void> = [];

	constructor(
		private readonly deps: { db: Db; clock: Clock; logger: Logger },
		private readonly wake: () => void,
		/** Whether this server still holds a run's lease (checked before a workspace is written). */
		private readonly isHeld: (workflowId: string) => boolean,
	) {}

	/** True when a job may be taken from the cache (its run asked for it). */
	static applies(job: JobRow): boolean {
		const request = requestOf(job);
		return request?.cacheable === true || request?.reuse !== undefined;
	}

	private runOf(workflowId: string): RunCache {
		let run = this.runs.get(workflowId);
		if (!run) {
			run = {
				abort: new AbortController(),
				checks: new Map(),
				decided: new Map(),
				folderKeys: new Map(),
				records: new Set(),
				isSettled: false,
			};
			this.runs.set(workflowId, run);
		}
		return run;
	}

	/** Throws when the run was left since `run` was taken: nothing more may be written or kept for it. */
	private stillHeld(wf: WorkflowRow, run: RunCache): void {
		if (run.abort.signal.aborted || this.runs.get(wf.id) !== run || !this.isHeld(wf.id)) throw new RunLeftError();
	}

	/** What to do with a created job: `busy` while its check runs (the scheduler is woken after). */
	check(wf: WorkflowRow, job: JobRow): CacheDecision | "busy" {
		const run = this.runOf(wf.id);
		const decided = run.decided.get(job.id);
		if (decided) return decided; // kept until `taken`: a tick that fails to record the hit asks again
		if (!run.checks.has(job.id)) {
			const task = this.inTurn(() => this.decide(wf, job, run))
				.catch((error: unknown): CacheDecision | undefined => {
					if (error instanceof RunLeftError) return undefined;
					// A check that failed (a file unreadable, the database away) runs the job: never worse than no cache.
					this.deps.logger.warn({ err: error, job: job.id }, "cache check failed; the job runs");
					return { hit: false };
				})
				.then((decision) => {
					run.checks.delete(job.id);
					if (decision && this.runs.get(wf.id) === run) {
						run.decided.set(job.id, decision);
						this.wake();
					}
				});
			run.checks.set(job.id, task);
		}
		return "busy";
	}

	/** Runs a check when one of the `maxChecks` places is free (checks read files; a fan-out asks for many). */
	private async inTurn<T>(work: () => Promise<T>): Promise<T> {
		if (this.active >= maxChecks) await new Promise<void>((resume) => this.waiting.push(resume));
		this.active += 1;
		try {
			return await work();
		} finally {
			this.active -= 1;
			this.waiting.shift()?.();
		}
	}

	/** The scheduler recorded what `check` decided (the job submitted, or finished from the cache). */
	taken(workflowId: string, jobId: string): void {
		this.runs.get(workflowId)?.decided.delete(jobId);
	}

	/**
	 * Before a run is declared ended: records what its last serial job changed, and waits for the job
	 * folders being recorded. `busy` while that is under way, `ready` once done (at once when nothing is
	 * to be recorded).
	 */
	settle(wf: WorkflowRow): "busy" | "ready" {
		const run = this.runOf(wf.id);
		if (run.records.size > 0) return "busy"; // each record wakes the scheduler when it is done
		if (run.isSettled || !run.running) return "ready";
		if (!run.settling) {
			run.settling = (async () => {
				const after = await this.digests.scan(wf.workspace_path, { signal: run.abort.signal });
				await this.recordRunning(wf, run, after);
			})()
				.catch((error: unknown) => {
					if (!(error instanceof RunLeftError) && !run.abort.signal.aborted)
						this.deps.logger.warn({ err: error, workflow: wf.id }, "recording a job for the cache failed");
				})
				.then(() => {
					run.isSettled = true;
					run.settling = undefined;
					this.wake();
				});
		}
		return "busy";
	}

	/** Forgets what is held for a run that ended or went to another server, and ends its checks. */
	forget(workflowId: string): void {
		const run = this.runs.get(workflowId);
		if (!run) return;
		run.abort.abort();
		this.runs.delete(workflowId);
	}

	/**
	 * After a job whose folder is its result (`JobRequest.reuse`) ended well and was collected: records
	 * that folder's files under the job's key, in the background. The folder must really be where its
	 * path says (no link put in its place); one holding symbolic links is not recorded (they may point
	 * into the folders of its run).
	 */
	recordFolder(wf: WorkflowRow, job: JobRow): void {
		const run = this.runs.get(wf.id);
		const key = run?.folderKeys.get(job.id);
		const reuse = requestOf(job)?.reuse;
		if (!run || key === undefined || !reuse) return;
		run.folderKeys.delete(job.id);
		const isScratch = (path: string) => reuse.scratch.some((s) => path === s || path.startsWith(`${s}/`));
		const record = (async () => {
			const realWorkspace = await realpath(wf.workspace_path);
			const folder = join(realWorkspace, reuse.folder);
			if ((await realpath(folder)) !== folder) return;
			const written: Record<string, ManifestEntry> = {};
			// Not cut off with its run: the job's folder no longer changes, and the run ends only after its
			// records (`settle`), so a restart of a run that failed right after finds its finished jobs.
			const scanned = await this.digests.scan(folder, { within: realWorkspace });
			for (const [path, entry] of scanned) {
				if (isScratch(path)) continue;
				if ("link" in entry) return;
				written[path] = entry;
			}
			await insertCacheEntry(this.deps.db, {
				job_id: job.id,
				owner_id: wf.owner_id,
				cache_key: key,
				workspace_path: join(wf.workspace_path, reuse.folder),
				changes: JSON.stringify({ written, removed: [] } satisfies WorkspaceChanges),
				created_at: isoNow(this.deps.clock),
			});
		})()
			.catch((error: unknown) =>
				this.deps.logger.warn({ err: error, job: job.id }, "recording a job's folder for the cache failed"),
			)
			.then(() => {
				run.records.delete(record);
				this.wake();
			});
		run.records.add(record);
	}

	private async decide(wf: WorkflowRow, job: JobRow, run: RunCache): Promise<CacheDecision> {
		const reuse = requestOf(job)?.reuse;
		const target: WorkspaceFolder = { workspace: wf.workspace_path, folder: reuse ? reuse.folder : "" };
		// A reuse that was being put in place when a server stopped: put the same files in place.
		if (job.cached_from !== null) {
			const candidate = await findCacheEntry(this.deps.db, job.cached_from);
			const current = reuse
				? new Map<string, ManifestEntry>()
				: await this.digests.scan(wf.workspace_path, { signal: run.abort.signal });
			const hit =
				candidate &&
				(await this.reuse(wf, job, run, candidate, reuse ? basisOfFolder : basisOfWorkspace, target, current));
			if (hit) return hit;
			this.deps.logger.warn({ job: job.id }, "the results a job was taking from the cache are gone; the job runs");
			await markJobReuse(this.deps.db, job.id, null);
			job.cached_from = null;
			return { hit: false };
		}
		return reuse ? this.decideFolder(wf, job, run, reuse, target) : this.decideWorkspace(wf, job, run, target);
	}

	/** A job whose folder is its result: reused when an earlier one ran the same on files of the same content. */
	private async decideFolder(
		wf: WorkflowRow,
		job: JobRow,
		run: RunCache,
		reuse: JobReuse,
		target: WorkspaceFolder,
	): Promise<CacheDecision> {
		const key = await this.folderKey(wf, job, reuse, run.abort.signal);
		if (key === undefined) return { hit: false };
		for (const candidate of await findCacheEntries(this.deps.db, wf.owner_id, key)) {
			if (candidate.job_id === job.id) continue;
			const hit = await this.reuse(wf, job, run, candidate, basisOfFolder, target, new Map());
			if (hit) return hit;
		}
		this.stillHeld(wf, run);
		run.folderKeys.set(job.id, key);
		return { hit: false };
	}

	/** A serial job: its key covers the whole workspace before it, and its result is what it changed there. */
	private async decideWorkspace(
		wf: WorkflowRow,
		job: JobRow,
		run: RunCache,
		target: WorkspaceFolder,
	): Promise<CacheDecision> {
		const before = await this.digests.scan(wf.workspace_path, { signal: run.abort.signal });
		await this.recordRunning(wf, run, before);
		const key = cacheKey(job, before);
		for (const candidate of await findCacheEntries(this.deps.db, wf.owner_id, key)) {
			if (candidate.job_id === job.id) continue;
			const hit = await this.reuse(wf, job, run, candidate, basisOfWorkspace, target, before);
			if (hit) return hit;
		}
		this.stillHeld(wf, run);
		run.running = { jobId: job.id, key, before };
		return { hit: false };
	}

	/**
	 * Puts an entry's files in place for a job: first its row names the job reused (so that a server
	 * that dies meanwhile finishes this, see the class), then the files are copied and checked. An
	 * entry whose files are gone or changed is dropped (undefined). The job's logs are copied too.
	 */
	private async reuse(
		wf: WorkflowRow,
		job: JobRow,
		run: RunCache,
		candidate: CacheCandidate,
		basis: string,
		target: WorkspaceFolder,
		current: Manifest,
	): Promise<Extract<CacheDecision, { hit: true }> | undefined> {
		const changes = JSON.parse(candidate.changes) as WorkspaceChanges;
		const source: WorkspaceFolder = {
			workspace: candidate.run_workspace,
			folder: relative(candidate.run_workspace, candidate.workspace_path),
		};
		this.stillHeld(wf, run);
		if (job.cached_from !== candidate.job_id) {
			await markJobReuse(this.deps.db, job.id, candidate.job_id);
			job.cached_from = candidate.job_id;
		}
		const applied = await applyChanges(target, source, changes, current);
		if (!applied) {
			// Its workspace no longer holds what the job wrote: the entry can never be used again.
			await deleteCacheEntry(this.deps.db, candidate.job_id);
			await markJobReuse(this.deps.db, job.id, null);
			job.cached_from = null;
			return undefined;
		}
		const logs = {
			from: { workspace: candidate.run_workspace, folder: relative(candidate.run_workspace, candidate.job_dir) },
			to: { workspace: wf.workspace_path, folder: relative(wf.workspace_path, job.job_dir) },
		};
		await copyJobFiles(logs.from, logs.to, [jobFiles.stdout, jobFiles.stderr]).catch((error: unknown) =>
			this.deps.logger.warn({ err: error, job: job.id }, "copying a cached job's logs failed"),
		);
		return { hit: true, from: candidate, applied, changes, basis };
	}

	/**
	 * The key of a job whose folder is its result: its command, image and environment, and the content
	 * of every file and folder it reads, with this run's own paths written the same for every run (a
	 * restart's jobs have folders of their own, named alike).
	 */
	private async folderKey(
		wf: WorkflowRow,
		job: JobRow,
		reuse: JobReuse,
		signal: AbortSignal,
	): Promise<string | undefined> {
		const ws = wf.workspace_path;
		// Markers no command can hold (a NUL byte): a command naming them literally is another command.
		const neutral = (text: string) =>
			text.split(`${ws}/${reuse.runFolder}/`).join("\0run\0/").split(`${ws}/`).join("\0workspace\0/");
		const reads: Array<[string, string]> = [];
		for (const path of reuse.reads) {
			signal.throwIfAborted();
			const digest = await this.digests.digestPath(ws, path);
			if (digest === undefined) return undefined;
			reads.push([neutral(`${ws}/${path}`), digest]);
		}
		const request = requestOf(job);
		const what = JSON.stringify({
			v: keyVersion,
			command: neutral(job.command),
			...whereItRuns(job),
			env: Object.entries(request?.env ?? {})
				.map(([k, v]) => [k, neutral(v)])
				.sort(([a], [b]) => ((a as string) < (b as string) ? -1 : 1)),
			reads,
		});
		return createHash("sha256").update(what).digest("hex");
	}

	/** Records what the run's serial job that ran last changed, now that the workspace is `after`. */
	private async recordRunning(wf: WorkflowRow, run: RunCache, after: Manifest): Promise<void> {
		const running = run.running;
		if (!running) return;
		run.running = undefined;
		const job = await findJob(this.deps.db, running.jobId);
		if (job?.status !== "finished") return;
		this.stillHeld(wf, run);
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

/** Where a job runs, as far as its results may depend on it: its image, or the backend's hosts without one. */
function whereItRuns(job: JobRow): { image: string } | { backend: string } {
	return job.image ? { image: job.image } : { backend: job.backend };
}

/** A serial job's cache key: what it runs, and on what. */
export function cacheKey(job: JobRow, before: Manifest): string {
	const request = requestOf(job);
	const what = JSON.stringify({
		v: keyVersion,
		command: job.command,
		...whereItRuns(job),
		workdir: request?.workdir ?? null,
		env: Object.entries(request?.env ?? {}).sort(([a], [b]) => (a < b ? -1 : 1)),
	});
	return createHash("sha256").update(what).update("\0").update(manifestDigest(before)).digest("hex");
}
