import { mkdir } from "node:fs/promises";
import { hostname } from "node:os";
import { resolve } from "node:path";
import type { BackendJob, ComputeBackend, JobObservation, Submission } from "../backends/index.js";
import { type JobSecretValues, removeJobSecrets, tailJobLog } from "../backends/index.js";
import { AppError, type Clock, isAppError, isoNow, type Logger, messageOf, newId } from "../common/index.js";
import {
	activeJobStatuses,
	appendEvents,
	claimWorkflows,
	type Db,
	insertJob,
	type JobRow,
	listJobs,
	type NewEvent,
	releaseLease,
	transitionWorkflow,
	updateJob,
	updateWorkflow,
	type WorkflowRow,
} from "../db/index.js";
import type { EngineStep, JobRequest, WorkflowEngine } from "../engines/index.js";
import type { WorkflowType } from "../spec/index.js";
import { jobFolderPath } from "../storage/index.js";
import { recordRunEnd } from "./accounting.js";
import { GuardedBackend } from "./guarded-backend.js";
import { computeProgress } from "./progress.js";
import { applyDueRetentionRules } from "./retention.js";
import { runState, toJobView } from "./run-view.js";

/** Settings of the run loop. */
export interface SchedulerConfig {
	/** Identifies this server process; a restarted process with the same id takes its leases back at once. */
	instanceId: string;
	leaseMs: number;
	/** How long the loop sleeps when nothing wakes it. */
	idleMs: number;
	maxWorkflowsPerTick: number;
	/** The backend for steps that name none. */
	defaultBackend: string;
	/** Maps a step's `compute_backend` (REANA's names included) to a configured backend name. */
	backendAliases: Record<string, string>;
}

/** What the run loop works with. */
export interface SchedulerDeps {
	db: Db;
	backends: ReadonlyMap<string, ComputeBackend>;
	engines: ReadonlyMap<WorkflowType, WorkflowEngine>;
	clock: Clock;
	logger: Logger;
	/** The decrypted secrets of a user, handed to their jobs (absent: jobs get no secrets). */
	secretsOf?: (userId: string) => Promise<JobSecretValues>;
}

const terminalJob = new Set(["finished", "failed", "stopped"]);

/**
 * The durable run loop. The database is the source of truth: every decision is persisted before it
 * acts, so any process may die at any moment and the next one (this one restarted, or another
 * replica once the lease expires) continues every workflow without running a job twice.
 */
export class Scheduler {
	private readonly backends = new Map<string, GuardedBackend>();
	private running = false;
	private loopDone: Promise<void> | undefined;
	private wakeUp: (() => void) | undefined;
	private isWoken = false;
	private lastReclaim = 0;
	private lastMaintenance = 0;
	private jobCache = new Map<string, JobRow[]>();
	private readonly secretCache = new Map<string, { at: number; value: JobSecretValues | undefined }>();
	private readonly listeners = new Set<(workflowId: string) => void>();

	constructor(
		private readonly config: SchedulerConfig,
		private readonly deps: SchedulerDeps,
	) {
		for (const [name, b] of deps.backends)
			this.backends.set(name, new GuardedBackend(b, deps.clock, () => this.wake()));
	}

	/** Starts the loop (idempotent). */
	start(): void {
		if (this.running) return;
		this.running = true;
		for (const b of this.backends.values()) b.markAllDue();
		this.loopDone = this.loop();
	}

	/** Stops the loop after the current tick and releases this instance's leases; jobs keep running. */
	async stop(): Promise<void> {
		if (!this.running) return;
		this.running = false;
		this.wake();
		await this.loopDone;
		await this.deps.db.kysely
			.updateTable("workflows")
			.set({ lease_owner: null, lease_expires_at: null })
			.where("lease_owner", "=", this.config.instanceId)
			.execute();
	}

	/** Makes the loop run its next tick now. */
	wake(): void {
		this.isWoken = true;
		this.wakeUp?.();
	}

	/** Registers a listener told whenever a workflow changed (for live streams). */
	subscribe(listener: (workflowId: string) => void): () => void {
		this.listeners.add(listener);
		return () => this.listeners.delete(listener);
	}

	/** The backend names this scheduler can run on. */
	backendNames(): string[] {
		return [...this.backends.keys()];
	}

	/** Total backend poll calls so far, per backend (for metrics and benchmarks). */
	pollCounts(): Record<string, number> {
		return Object.fromEntries([...this.backends].map(([n, b]) => [n, b.pollCalls]));
	}

	private async loop(): Promise<void> {
		while (this.running) {
			this.isWoken = false;
			try {
				await this.tick();
			} catch (error) {
				this.deps.logger.error({ err: error }, "scheduler tick failed");
				await sleep(1000);
			}
			if (!this.running) break;
			if (this.isWoken) continue;
			await new Promise<void>((done) => {
				const timer = setTimeout(done, this.config.idleMs);
				this.wakeUp = () => {
					clearTimeout(timer);
					done();
				};
			});
			this.wakeUp = undefined;
		}
	}

	/**
	 * Frees the leases of dead server processes on this host (`host:pid` owners whose pid is gone),
	 * so a server restarted after a crash resumes at once instead of waiting for the leases to expire.
	 */
	private async reclaimDeadLocalLeases(): Promise<void> {
		const prefix = `${hostname()}:`;
		const owners = await this.deps.db.kysely
			.selectFrom("workflows")
			.select("lease_owner")
			.distinct()
			.where("lease_owner", "is not", null)
			.where("lease_owner", "!=", this.config.instanceId)
			.where("lease_owner", "like", `${prefix}%`)
			.execute();
		for (const { lease_owner: owner } of owners) {
			const pid = Number(owner?.slice(prefix.length));
			if (!owner || !Number.isInteger(pid) || pid <= 0 || isProcessAlive(pid)) continue;
			this.deps.logger.info({ owner }, "taking over the workflows of a dead server process");
			await this.deps.db.kysely
				.updateTable("workflows")
				.set({ lease_owner: null, lease_expires_at: null })
				.where("lease_owner", "=", owner)
				.execute();
		}
	}

	/** One pass over every active workflow this instance holds a lease on. */
	async tick(): Promise<void> {
		const { db, clock } = this.deps;
		const now = clock.now();
		if (now.getTime() - this.lastReclaim > 5000) {
			this.lastReclaim = now.getTime();
			await this.reclaimDeadLocalLeases();
		}
		if (now.getTime() - this.lastMaintenance > 60_000) {
			this.lastMaintenance = now.getTime();
			await this.maintain(now);
		}
		const claimed = await claimWorkflows(
			db,
			this.config.instanceId,
			now.toISOString(),
			new Date(now.getTime() + this.config.leaseMs).toISOString(),
			this.config.maxWorkflowsPerTick,
		);
		if (claimed.length === 0) return;
		// This instance is the only writer of a leased workflow's jobs, so they stay in memory between
		// ticks; a workflow that was not leased to us in the previous tick is read afresh.
		const jobsOf = new Map<string, JobRow[]>();
		await Promise.all(
			claimed.map(async (wf) => {
				const cached = this.jobCache.get(wf.id);
				jobsOf.set(wf.id, cached ?? (await listJobs(db, wf.id)));
			}),
		);
		this.jobCache = jobsOf;
		await this.observe(claimed, jobsOf);
		for (const wf of claimed) {
			try {
				await this.advance(wf, jobsOf.get(wf.id) ?? []);
			} catch (error) {
				await this.failOnError(wf, error);
			}
		}
	}

	/** Polls every active job of the claimed workflows, one batched call per backend, and records what changed. */
	private async observe(workflows: WorkflowRow[], jobsOf: Map<string, JobRow[]>): Promise<void> {
		const byBackend = new Map<string, JobRow[]>();
		for (const wf of workflows) {
			for (const j of jobsOf.get(wf.id) ?? []) {
				if ((j.status === "queued" || j.status === "running") && j.backend_ref) {
					const list = byBackend.get(j.backend) ?? [];
					list.push(j);
					byBackend.set(j.backend, list);
				}
			}
		}
		await Promise.all(
			[...byBackend].map(async ([name, jobs]) => {
				const backend = this.backends.get(name);
				if (!backend) return;
				let seen: Map<string, JobObservation>;
				try {
					seen = await backend.poll(jobs.map((j) => j.backend_ref as string));
				} catch (error) {
					this.deps.logger.warn({ err: error, backend: name }, "backend poll failed; will retry");
					return;
				}
				for (const job of jobs) {
					const obs = seen.get(job.backend_ref as string);
					const wf = workflows.find((w) => w.id === job.workflow_id) as WorkflowRow;
					if (obs) await this.apply(wf, jobsOf.get(wf.id) ?? [], job, obs, backend);
				}
			}),
		);
	}

	/** Records one observation of a job (mutating the row in place so the engine sees it this tick). */
	private async apply(
		wf: WorkflowRow,
		jobs: JobRow[],
		job: JobRow,
		obs: JobObservation,
		backend: GuardedBackend,
	): Promise<void> {
		const { db } = this.deps;
		const at = isoNow(this.deps.clock);
		const events: NewEvent[] = [];
		const patch: Partial<JobRow> = {};
		switch (obs.state) {
			case "queued":
				return;
			case "running": {
				if (job.status !== "running") {
					patch.status = "running";
					patch.started_at = obs.startedAt?.toISOString() ?? at;
					events.push(
						this.event(job.workflow_id, job.id, "job_started", `${job.step_name}: started on ${job.backend}`),
					);
				}
				const limit = (JSON.parse(job.resources) as { timeLimitSeconds?: number }).timeLimitSeconds;
				const started = Date.parse(patch.started_at ?? job.started_at ?? at);
				if (
					limit !== undefined &&
					!backend.backend.capabilities.enforcesTimeLimit &&
					Date.now() - started > limit * 1000
				) {
					await backend.cancel(job.backend_ref as string);
					patch.status = "failed";
					patch.finished_at = at;
					patch.message = `time limit of ${limit}s exceeded; the job was stopped`;
					events.push(this.event(job.workflow_id, job.id, "job_failed", `${job.step_name}: ${patch.message}`, "error"));
				}
				break;
			}
			case "exited": {
				const ok = obs.exitCode === 0;
				patch.status = ok ? "finished" : "failed";
				patch.exit_code = obs.exitCode;
				patch.started_at = job.started_at ?? obs.startedAt?.toISOString() ?? at;
				patch.finished_at = obs.finishedAt?.toISOString() ?? at;
				if (!ok) {
					const tail = await tailJobLog(job.job_dir, 10);
					const log = tail ? `last lines of its log:\n${tail}` : "it printed nothing";
					// The backend's reason (time limit, out of memory, …) comes first: it is why the job ended.
					patch.message = obs.reason ? `${obs.reason}; ${log}` : log;
				}
				events.push(
					this.event(
						job.workflow_id,
						job.id,
						ok ? "job_finished" : "job_failed",
						`${job.step_name}: ${ok ? "finished" : `failed with exit code ${obs.exitCode}${obs.reason ? ` (${obs.reason})` : ""}`}`,
						ok ? "info" : "error",
					),
				);
				break;
			}
			case "lost":
				await this.retryOrFail(wf, jobs, job, obs.reason);
				return;
		}
		if (Object.keys(patch).length === 0) return;
		await updateJob(db, job.id, patch);
		Object.assign(job, patch);
		await this.record(events);
		if (patch.status && terminalJob.has(patch.status)) await removeJobSecrets(job.job_dir);
	}

	/**
	 * An infrastructure failure (not the command's own): a new attempt if the step allows retries,
	 * otherwise the job fails. The new attempt is persisted before the old one is marked failed, so a
	 * crash in between repeats this decision instead of failing the workflow.
	 */
	private async retryOrFail(wf: WorkflowRow, jobs: JobRow[], job: JobRow, reason: string): Promise<void> {
		const { db } = this.deps;
		const retries = (JSON.parse(job.resources) as { retries?: number }).retries ?? 0;
		const canRetry = job.attempt <= retries;
		if (canRetry) await this.persistJob(wf, this.requestOf(job), jobs, job.attempt + 1);
		const patch: Partial<JobRow> = {
			status: "failed",
			finished_at: isoNow(this.deps.clock),
			message: `infrastructure failure: ${reason}`,
		};
		await updateJob(db, job.id, patch);
		Object.assign(job, patch);
		await removeJobSecrets(job.job_dir);
		const retry = canRetry ? `; retrying (attempt ${job.attempt + 1} of ${retries + 1})` : "";
		await this.record([
			this.event(wf.id, job.id, "job_lost", `${job.step_name}: ${reason}${retry}`, canRetry ? "warning" : "error"),
		]);
	}

	/** Takes one workflow one step forward. */
	private async advance(wf: WorkflowRow, jobs: JobRow[]): Promise<void> {
		if (wf.stop_requested_at) {
			await this.stopRun(wf, jobs);
			return;
		}
		// Jobs persisted but not yet accepted by a backend (the server died in between): submit again.
		for (const job of jobs.filter((j) => j.status === "created")) await this.submit(wf, job);
		const engine = this.deps.engines.get(wf.type as WorkflowType);
		if (!engine) throw new AppError("validation_failed", `no engine for workflow type '${wf.type}' in this server`);
		const state = runState(wf, jobs);
		await this.collectEnded(engine, state, jobs);
		const step = await engine.next(state);
		await this.act(wf, jobs, step);
	}

	private async collectEnded(
		engine: WorkflowEngine,
		state: ReturnType<typeof runState>,
		jobs: JobRow[],
	): Promise<void> {
		if (!engine.collect) return;
		for (const job of jobs) {
			if (job.status !== "finished" || job.outputs !== null) continue;
			const outputs = await engine.collect(state, toJobView(job));
			job.outputs = JSON.stringify(outputs ?? null);
			await updateJob(this.deps.db, job.id, { outputs: job.outputs });
		}
	}

	private async act(wf: WorkflowRow, jobs: JobRow[], step: EngineStep): Promise<void> {
		const { db } = this.deps;
		const at = isoNow(this.deps.clock);
		if (step.kind === "submit") {
			// Jobs for backends that take batches (Slurm job arrays) are persisted first, then submitted together.
			const batches = new Map<string, JobRow[]>();
			for (const request of step.jobs) {
				const backendName = this.backendFor(request);
				const backend = this.backends.get(backendName) as GuardedBackend;
				const active = jobs.filter((j) => j.backend === backendName && activeJobStatuses.includes(j.status)).length;
				if (active >= backend.backend.capabilities.maxActiveJobs) break;
				const row = await this.persistJob(wf, request, jobs, 1);
				if (row && backend.backend.submitBatch) batches.set(backendName, [...(batches.get(backendName) ?? []), row]);
				else if (row) await this.submit(wf, row);
			}
			for (const rows of batches.values()) await this.submitBatch(wf, rows);
		}
		if (wf.status === "queued" || (wf.status === "pending" && jobs.some((j) => j.status !== "created"))) {
			const next = wf.status === "queued" ? "pending" : "running";
			await transitionWorkflow(db, wf.id, [wf.status], {
				status: next,
				updated_at: at,
				...(next === "running" ? { started_at: wf.started_at ?? at } : {}),
			});
			await this.record([this.event(wf.id, null, `workflow_${next}`, `workflow is ${next}`)]);
			wf.status = next;
		}
		const progress = JSON.stringify(computeProgress(jobs, step.total));
		if (step.kind === "done" || step.kind === "failed") {
			if (jobs.some((j) => activeJobStatuses.includes(j.status))) return; // let running siblings finish first
			const ok = step.kind === "done";
			const message = ok ? "workflow finished successfully" : step.reason;
			await transitionWorkflow(db, wf.id, ["queued", "pending", "running"], {
				status: ok ? "finished" : "failed",
				status_message: message,
				progress,
				...(ok && step.outputs !== undefined ? { outputs: JSON.stringify(step.outputs) } : {}),
				finished_at: at,
				updated_at: at,
				started_at: wf.started_at ?? at,
				lease_owner: null,
				lease_expires_at: null,
			});
			await this.record([
				this.event(wf.id, null, ok ? "workflow_finished" : "workflow_failed", message, ok ? "info" : "error"),
			]);
			await this.ended(wf);
			return;
		}
		if (progress !== wf.progress) {
			await updateWorkflow(db, wf.id, { progress, updated_at: at });
			wf.progress = progress;
			this.notify(wf.id);
		}
	}

	private backendFor(request: JobRequest): string {
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

	private requestOf(job: JobRow): JobRequest {
		const r = JSON.parse(job.resources) as JobRequest["resources"] & { request?: Omit<JobRequest, "resources"> };
		const { request, ...resources } = r;
		return { ...(request as Omit<JobRequest, "resources">), resources };
	}

	/** Persists a job before anything runs it; returns undefined when another writer already did. */
	private async persistJob(
		wf: WorkflowRow,
		request: JobRequest,
		jobs: JobRow[],
		attempt: number,
	): Promise<JobRow | undefined> {
		const seq = jobs.reduce((m, j) => Math.max(m, j.seq), 0) + 1;
		const { resources, ...rest } = request;
		const row: JobRow = {
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
		};
		try {
			await insertJob(this.deps.db, row);
		} catch (error) {
			if (isAppError(error) && error.code === "conflict") return undefined;
			throw error;
		}
		jobs.push(row);
		return row;
	}

	/**
	 * Hands persisted jobs of one backend to its `submitBatch` in one call. If the batch fails, each
	 * job is submitted on its own (submission is idempotent), so each gets its own error or retry.
	 */
	private async submitBatch(wf: WorkflowRow, jobs: JobRow[]): Promise<void> {
		const backend = this.backends.get((jobs[0] as JobRow).backend) as GuardedBackend;
		if (jobs.length < 2 || !backend.backend.submitBatch) {
			for (const job of jobs) await this.submit(wf, job);
			return;
		}
		let subs: Submission[];
		try {
			subs = await backend.backend.submitBatch(await Promise.all(jobs.map((j) => this.backendJobOf(wf, j))));
		} catch (error) {
			this.deps.logger.warn({ err: error, backend: backend.name }, "batch submission failed; submitting one by one");
			for (const job of jobs) await this.submit(wf, job);
			return;
		}
		for (const [i, job] of jobs.entries()) await this.recordSubmission(wf, job, subs[i] as Submission);
	}

	/** Hands a persisted job to its backend and records the backend's reference. */
	private async submit(wf: WorkflowRow, job: JobRow): Promise<void> {
		const { db } = this.deps;
		const backend = this.backends.get(job.backend);
		if (!backend) throw new AppError("validation_failed", `compute backend '${job.backend}' is not configured`);
		const backendJob = await this.backendJobOf(wf, job);
		const at = isoNow(this.deps.clock);
		try {
			await this.recordSubmission(wf, job, await backend.submit(backendJob));
		} catch (error) {
			if (isAppError(error) && error.code === "validation_failed") {
				const patch: Partial<JobRow> = { status: "failed", finished_at: at, message: error.message };
				await updateJob(db, job.id, patch);
				Object.assign(job, patch);
				await this.record([this.event(wf.id, job.id, "job_failed", `${job.step_name}: ${error.message}`, "error")]);
				return;
			}
			// The backend is unreachable: the job stays `created` and is submitted again next tick.
			this.deps.logger.warn({ err: error, job: job.id }, "submission failed; will retry");
			await this.record([
				this.event(
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
		await Promise.all([
			mkdir(job.job_dir, { recursive: true }),
			workdir === wf.workspace_path ? undefined : mkdir(workdir, { recursive: true }),
		]);
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
		return backendJob;
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

	/** Records that a backend accepted a job. */
	private async recordSubmission(wf: WorkflowRow, job: JobRow, sub: Submission): Promise<void> {
		const patch: Partial<JobRow> = { status: "queued", backend_ref: sub.ref, submitted_at: isoNow(this.deps.clock) };
		if (sub.imageUsed !== undefined) patch.image_used = sub.imageUsed ? 1 : 0;
		await updateJob(this.deps.db, job.id, patch);
		Object.assign(job, patch);
		const note = sub.note ? ` (${sub.note})` : "";
		await this.record([
			this.event(
				wf.id,
				job.id,
				"job_submitted",
				`${job.step_name}: submitted to ${job.backend}${note}`,
				sub.note ? "warning" : "info",
			),
		]);
	}

	private async stopRun(wf: WorkflowRow, jobs: JobRow[]): Promise<void> {
		const { db } = this.deps;
		const at = isoNow(this.deps.clock);
		for (const job of jobs) {
			if (terminalJob.has(job.status)) continue;
			if (job.backend_ref) {
				try {
					await this.backends.get(job.backend)?.cancel(job.backend_ref);
				} catch (error) {
					this.deps.logger.warn({ err: error, job: job.id }, "cancel failed");
				}
			}
			await updateJob(db, job.id, { status: "stopped", finished_at: at, message: "stopped by request" });
			await removeJobSecrets(job.job_dir);
			job.status = "stopped";
		}
		await transitionWorkflow(db, wf.id, ["queued", "pending", "running"], {
			status: "stopped",
			status_message: "workflow stopped by request",
			progress: JSON.stringify(computeProgress(jobs)),
			finished_at: at,
			updated_at: at,
			lease_owner: null,
			lease_expires_at: null,
		});
		await this.record([this.event(wf.id, null, "workflow_stopped", "workflow stopped by request", "warning")]);
		await this.ended(wf);
	}

	/** A run ended: measure it and account for it (a crash before this is caught up by `maintain`). */
	private async ended(wf: WorkflowRow): Promise<void> {
		this.jobCache.delete(wf.id);
		this.notify(wf.id);
		try {
			await recordRunEnd(this.deps.db, this.deps.clock, wf);
		} catch (error) {
			this.deps.logger.warn({ err: error, workflow: wf.id }, "accounting for an ended run failed; will retry");
		}
	}

	/**
	 * Periodic work: accounting for ended runs that were never measured (the server died in between),
	 * and retention rules whose day has come.
	 */
	private async maintain(now: Date): Promise<void> {
		const { db, logger, clock } = this.deps;
		const unmeasured = await db.kysely
			.selectFrom("workflows")
			.selectAll()
			.where("status", "in", ["finished", "failed", "stopped"])
			.where("disk_bytes", "is", null)
			.limit(50)
			.execute();
		for (const wf of unmeasured)
			await recordRunEnd(db, clock, wf).catch((error) => logger.warn({ err: error }, "accounting failed"));
		await applyDueRetentionRules(db, now, logger);
	}

	private async failOnError(wf: WorkflowRow, error: unknown): Promise<void> {
		const { db } = this.deps;
		const isUserError = isAppError(error) && error.code === "validation_failed";
		if (!isUserError) this.deps.logger.error({ err: error, workflow: wf.id }, "advancing a workflow failed");
		if (!isUserError && isAppError(error) && error.retryable) return; // try again next tick
		const message = isUserError
			? (error as AppError).message
			: "internal error while running the workflow; see the server log";
		const at = isoNow(this.deps.clock);
		await transitionWorkflow(db, wf.id, ["queued", "pending", "running"], {
			status: "failed",
			status_message: message,
			finished_at: at,
			updated_at: at,
		});
		await releaseLease(db, wf.id, this.config.instanceId);
		await this.record([this.event(wf.id, null, "workflow_failed", message, "error")]);
		await this.ended(wf);
	}

	/** Persists events, then tells listeners (who will read them from the database). */
	private async record(events: NewEvent[]): Promise<void> {
		await appendEvents(this.deps.db, events);
		for (const id of new Set(events.map((e) => e.workflow_id))) this.notify(id);
	}

	private event(
		workflowId: string,
		jobId: string | null,
		type: string,
		message: string,
		level: NewEvent["level"] = "info",
	): NewEvent {
		return { workflow_id: workflowId, job_id: jobId, at: isoNow(this.deps.clock), level, type, message };
	}

	private notify(workflowId: string): void {
		for (const l of this.listeners) l(workflowId);
	}
}

function isProcessAlive(pid: number): boolean {
	try {
		process.kill(pid, 0);
		return true;
	} catch (error) {
		return (error as NodeJS.ErrnoException).code === "EPERM";
	}
}

function sleep(ms: number): Promise<void> {
	return new Promise((r) => setTimeout(r, ms));
}
