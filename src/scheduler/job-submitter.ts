import { lstat, realpath } from "node:fs/promises";
import { dirname, join, relative, resolve } from "node:path";
import {
	type BackendJob,
	type JobSecretValues,
	removeJobSecrets,
	type Submission,
	threadPoolFs,
} from "../backends/index.js";
import { AppError, isAppError, isoNow, messageOf, newId } from "../common/index.js";
import { activeJobStatuses, insertJobs, type JobRow, type JobUpdate, type WorkflowRow } from "../db/index.js";
import type { JobRequest } from "../engines/index.js";
import { internalDir, isInside, jobFolderPath } from "../storage/index.js";
import type { GuardedBackend } from "./guarded-backend.js";
import type { RunEvents } from "./run-events.js";
import { LeaseLostError, type RunLeases } from "./run-leases.js";
import type { SchedulerConfig, SchedulerDeps } from "./scheduler-settings.js";

/** A job a backend accepted, not yet recorded. */
interface Accepted {
	job: JobRow;
	sub: Submission;
}

/**
 * Turns an engine's job requests into persisted jobs and hands them to backends. A job is always in
 * the database before any backend sees it, and its backend reference is recorded once accepted.
 */
export class JobSubmitter {
	private readonly secretCache = new Map<string, { at: number; value: JobSecretValues | undefined }>();
	private readonly withoutSecrets = new Set<string>();

	constructor(
		private readonly config: SchedulerConfig,
		private readonly deps: SchedulerDeps,
		private readonly backends: ReadonlyMap<string, GuardedBackend>,
		private readonly events: RunEvents,
		private readonly leases: RunLeases,
	) {}

	/**
	 * Persists the jobs an engine asked for (as many as the backends' capacity allows, in one
	 * transaction) and submits them; jobs for backends that take batches (Slurm arrays) go together.
	 * Jobs `hold` picks are persisted only (they stay `created`); returns whether there were any.
	 */
	async submitRequests(
		wf: WorkflowRow,
		jobs: JobRow[],
		requests: readonly JobRequest[],
		hold: (job: JobRow) => boolean = () => false,
	): Promise<boolean> {
		const db = this.deps.db;
		const fresh: JobRow[] = [];
		// Counted once per decision, not per request: a fan-out asks for hundreds of jobs at a time.
		const active = new Map<string, number>();
		let seq = 0;
		for (const j of jobs) {
			if (activeJobStatuses.includes(j.status)) active.set(j.backend, (active.get(j.backend) ?? 0) + 1);
			if (j.seq > seq) seq = j.seq;
		}
		for (const request of requests) {
			const backendName = this.backendFor(request);
			const backend = this.backends.get(backendName) as GuardedBackend;
			const count = active.get(backendName) ?? 0;
			if (count >= backend.backend.capabilities.maxActiveJobs) break;
			active.set(backendName, count + 1);
			seq += 1;
			fresh.push(this.newJobRow(wf, request, seq, 1));
		}
		const inserted = await insertJobs(db, fresh);
		jobs.push(...inserted);
		const persisted = inserted.filter((row) => !hold(row));
		const batches = new Map<string, JobRow[]>();
		const accepted: Accepted[] = [];
		try {
			for (const row of persisted) {
				const backend = this.backends.get(row.backend) as GuardedBackend;
				if (backend.backend.submitBatch) batches.set(row.backend, [...(batches.get(row.backend) ?? []), row]);
				else await this.submitInto(wf, row, accepted);
			}
			for (const rows of batches.values()) await this.submitBatchInto(wf, rows, accepted);
		} finally {
			// Whatever the backends accepted is recorded, in one transaction, even if a later job failed.
			await this.recordSubmissions(wf, accepted);
		}
		return persisted.length < inserted.length;
	}

	backendFor(request: JobRequest): string {
		const asked = request.backend ?? this.config.defaultBackend;
		const name = this.config.backendAliases[asked] ?? asked;
		if (!this.backends.has(name)) {
			throw new AppError(
				"validation_failed",
				`step '${request.stepName}' asks for compute backend '${asked}', which this server does not have (available: ${[...this.backends.keys()].join(", ")})`,
			);
		}
		return name;
	}

	requestOf(job: JobRow): JobRequest {
		const r = JSON.parse(job.resources) as JobRequest["resources"] & { request?: Omit<JobRequest, "resources"> };
		const { request, ...resources } = r;
		return { ...(request as Omit<JobRequest, "resources">), command: job.command, resources };
	}

	/** Persists a job before anything runs it; returns undefined when another writer already did. */
	async persistJob(wf: WorkflowRow, request: JobRequest, jobs: JobRow[], attempt: number): Promise<JobRow | undefined> {
		let seq = 0;
		for (const j of jobs) if (j.seq > seq) seq = j.seq;
		const [row] = await insertJobs(this.deps.db, [this.newJobRow(wf, request, seq + 1, attempt)]);
		if (row) jobs.push(row);
		return row;
	}

	/** The row of a new job (not yet persisted), with its sequence number in the run. */
	newJobRow(wf: WorkflowRow, request: JobRequest, seq: number, attempt: number): JobRow {
		// The command has a column of its own; the rest of the request is kept with the resources.
		const { resources, command: _command, ...rest } = request;
		return {
			id: newId(),
			workflow_id: wf.id,
			key: request.key,
			seq,
			attempt,
			step_name: request.stepName,
			backend: this.backendFor(request),
			backend_ref: null,
			command: request.command,
			image: request.image ?? null,
			image_used: null,
			resources: JSON.stringify({ ...resources, retries: request.retries ?? 0, request: rest }),
			job_dir: jobFolderPath(wf.workspace_path, wf.id, seq, request.stepName, attempt),
			status: "created",
			exit_code: null,
			message: null,
			outputs: null,
			created_at: isoNow(this.deps.clock),
			submitted_at: null,
			started_at: null,
			finished_at: null,
			cached_from: null,
		};
	}

	/**
	 * Hands persisted jobs of one backend to its `submitBatch` in one call. If the batch fails, each
	 * job is submitted on its own (submission is idempotent), so each gets its own error or retry.
	 */
	private async submitBatchInto(wf: WorkflowRow, jobs: JobRow[], accepted: Accepted[]): Promise<void> {
		const backend = this.backends.get((jobs[0] as JobRow).backend) as GuardedBackend;
		const submitBatch = backend.backend.submitBatch?.bind(backend.backend);
		if (jobs.length < 2 || !submitBatch) {
			for (const job of jobs) await this.submitInto(wf, job, accepted);
			return;
		}
		let subs: Submission[];
		try {
			const batch = await Promise.all(jobs.map((j) => this.backendJobOf(wf, j)));
			subs = await this.leases.during(wf.id, () => submitBatch(batch));
		} catch (error) {
			if (error instanceof LeaseLostError) throw error;
			this.deps.logger.warn({ err: error, backend: backend.name }, "batch submission failed; submitting one by one");
			for (const job of jobs) await this.submitInto(wf, job, accepted);
			return;
		}
		for (const [i, job] of jobs.entries()) accepted.push({ job, sub: subs[i] as Submission });
	}

	/** Hands a persisted job to its backend and records the backend's reference. */
	async submit(wf: WorkflowRow, job: JobRow): Promise<void> {
		const accepted: Accepted[] = [];
		try {
			await this.submitInto(wf, job, accepted);
		} finally {
			await this.recordSubmissions(wf, accepted);
		}
	}

	/** Hands a persisted job to its backend; an acceptance is added to `accepted`, to be recorded by the caller. */
	private async submitInto(wf: WorkflowRow, job: JobRow, accepted: Accepted[]): Promise<void> {
		const backend = this.backends.get(job.backend);
		if (!backend) throw new AppError("validation_failed", `compute backend '${job.backend}' is not configured`);
		const at = isoNow(this.deps.clock);
		const fail = async (message: string) => {
			const patch: Partial<JobRow> = { status: "failed", finished_at: at, message };
			const event = this.events.event(wf.id, job.id, "job_failed", `${job.step_name}: ${message}`, "error");
			if (!(await this.events.recordJobUpdate(job.id, patch, [event], ["created"]))) throw new LeaseLostError(wf.id);
			Object.assign(job, patch);
		};
		let backendJob: BackendJob;
		try {
			backendJob = await this.backendJobOf(wf, job);
		} catch (error) {
			// A folder of the job that leads out of its workspace: the job fails, nothing is retried.
			if (isAppError(error) && error.code === "validation_failed") return fail(error.message);
			throw error;
		}
		// Only while this instance holds the run's lease: a replica that took it over submits instead (a
		// database error here is the tick's to retry, not the backend's).
		await this.leases.hold(wf.id);
		try {
			accepted.push({ job, sub: await this.leases.during(wf.id, () => backend.submit(backendJob)) });
		} catch (error) {
			if (error instanceof LeaseLostError) throw error;
			if (isAppError(error) && error.code === "validation_failed") return fail(error.message);
			// The backend is unreachable: the job stays `created` and is submitted again next tick.
			this.deps.logger.warn({ err: error, job: job.id }, "submission failed; will retry");
			await this.events.record([
				this.events.event(
					wf.id,
					job.id,
					"job_submit_retry",
					`${job.step_name}: ${job.backend} unavailable (${messageOf(error)}); retrying`,
					"warning",
				),
			]);
		}
	}

	/** The job as its backend sees it (creating its job folder and workdir). */
	private async backendJobOf(wf: WorkflowRow, job: JobRow): Promise<BackendJob> {
		const request = this.requestOf(job);
		const workdir = request.workdir ? resolve(wf.workspace_path, request.workdir) : wf.workspace_path;
		const fs = this.backends.get(job.backend)?.backend.jobFolderFs ?? threadPoolFs;
		const folders = (request.folders ?? []).map((f) => resolve(wf.workspace_path, f));
		if (!isInside(wf.workspace_path, workdir) || folders.some((f) => !isInside(wf.workspace_path, f)))
			throw new AppError("internal", `job ${job.id} asks for a folder outside its workspace`);
		// A job may have left a symbolic link where a later job's folder goes (its own folder is in the
		// workspace): each folder must stay in the workspace, checked before anything is made (nothing is
		// made through a link) and after (a link that appeared meanwhile).
		const all = [job.job_dir, ...folders, ...(workdir === wf.workspace_path ? [] : [workdir])];
		const check = (realRoot: string) => Promise.all(all.map((f) => requireInWorkspace(wf.workspace_path, realRoot, f)));
		// A workspace not made yet has no links in it: it is made with the folders.
		const realRoot = await realpath(wf.workspace_path).catch(() => undefined);
		if (realRoot !== undefined) await check(realRoot);
		// In this order: folders done at once (the local backend's) are then made parents first.
		await Promise.all(all.map((f) => fs.mkdir(f, { recursive: true })));
		await check(realRoot ?? (await realpath(wf.workspace_path)));
		const backendJob: BackendJob = {
			id: job.id,
			jobDir: job.job_dir,
			workspace: wf.workspace_path,
			workdir,
			command: job.command,
			env: {
				...(request.env ?? {}),
				REANA_WORKSPACE: wf.workspace_path,
				ORRERY_WORKSPACE: wf.workspace_path,
				ORRERY_JOB_ID: job.id,
			},
			resources: request.resources,
			options: request.backendOptions ?? {},
		};
		if (job.image) backendJob.image = job.image;
		const secrets = await this.secretsFor(wf.owner_id);
		if (secrets) backendJob.secrets = secrets;
		this.withoutSecrets[secrets ? "delete" : "add"](job.id);
		return backendJob;
	}

	/**
	 * Removes a job's secrets from its folder once it has ended. Jobs this process submitted without
	 * secrets are skipped (two file operations saved per job); after a restart nothing is known, so
	 * the folder is always cleaned.
	 */
	async clearSecrets(job: JobRow): Promise<void> {
		if (this.withoutSecrets.delete(job.id)) return;
		await removeJobSecrets(job.job_dir);
	}

	/** A user's secrets for their jobs, cached briefly so that a fan-out does not decrypt them per job. */
	private async secretsFor(userId: string): Promise<JobSecretValues | undefined> {
		if (!this.deps.secretsOf) return undefined;
		const now = this.deps.clock.now().getTime();
		const cached = this.secretCache.get(userId);
		if (cached && now - cached.at < 5000) return cached.value;
		const all = await this.deps.secretsOf(userId);
		const value = Object.keys(all.env).length + Object.keys(all.files).length > 0 ? all : undefined;
		this.secretCache.set(userId, { at: now, value });
		return value;
	}

	/**
	 * Records that backends accepted jobs, in one transaction, for the jobs still `created`: a job
	 * another instance submitted and moved on meanwhile (this one lost the lease while its backend
	 * call was under way) keeps that state, and this instance leaves the run alone.
	 */
	private async recordSubmissions(wf: WorkflowRow, accepted: readonly Accepted[]): Promise<void> {
		const at = isoNow(this.deps.clock);
		const updates = accepted.map(({ job, sub }): JobUpdate => {
			const patch: Partial<JobRow> = { status: "queued", backend_ref: sub.ref, submitted_at: at };
			if (sub.imageUsed !== undefined) patch.image_used = sub.imageUsed ? 1 : 0;
			const note = sub.note ? ` (${sub.note})` : "";
			const event = this.events.event(
				wf.id,
				job.id,
				"job_submitted",
				`${job.step_name}: submitted to ${job.backend}${note}`,
				sub.note ? "warning" : "info",
			);
			return { id: job.id, patch, events: [event], from: ["created"] };
		});
		const applied = await this.events.recordJobUpdates(updates);
		for (const [i, { job }] of accepted.entries())
			if (applied.has(job.id)) Object.assign(job, (updates[i] as JobUpdate).patch);
		if (applied.size < updates.length) {
			this.leases.markLost(wf.id);
			throw new LeaseLostError(wf.id);
		}
	}
}

/**
 * Refuses a job's folder that leads out of its workspace through a symbolic link, or from outside
 * Orrery's own folder into it: the deepest part of it that exists must really be where its path says.
 */
async function requireInWorkspace(root: string, realRoot: string, path: string): Promise<void> {
	if (!isInside(root, path)) return;
	const exists = (p: string) =>
		lstat(p).then(
			() => true,
			() => false,
		);
	let probe = path;
	while (!(await exists(probe))) {
		probe = dirname(probe);
		if (!isInside(root, probe)) return;
	}
	const real = await realpath(probe).catch(() => undefined);
	const own = join(root, internalDir);
	const isOwn = isInside(own, probe);
	const isAllowed =
		real !== undefined && isInside(realRoot, real) && isOwn === isInside(join(realRoot, internalDir), real);
	if (!isAllowed)
		throw new AppError(
			"validation_failed",
			`the folder '${relative(root, path)}' leads outside the workspace through a symbolic link; the step was not run`,
		);
}
