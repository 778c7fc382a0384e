import { AppError, isAppError, isoNow } from "../common/index.js";
import {
	activeJobStatuses,
	claimWorkflows,
	type JobRow,
	type JobUpdate,
	listJobs,
	listLeasedWorkflows,
	releaseLease,
	transitionWorkflow,
	updateJob,
	updateJobsWithEvents,
	updateWorkflow,
	type WorkflowRow,
} from "../db/index.js";
import type { EngineStep, WorkflowEngine } from "../engines/index.js";
import type { WorkflowType } from "../spec/index.js";
import { recordRunEnd } from "./accounting.js";
import { GuardedBackend } from "./guarded-backend.js";
import { JobObserver } from "./job-observer.js";
import { JobSubmitter } from "./job-submitter.js";
import { maintain, reclaimDeadLocalLeases } from "./maintenance.js";
import { computeProgress } from "./progress.js";
import { RunEvents } from "./run-events.js";
import { RunViews, runState, toJobView } from "./run-view.js";
import { type SchedulerConfig, type SchedulerDeps, terminalJob } from "./scheduler-settings.js";
import { type StagingGate, StagingPhase } from "./staging-phase.js";

export type { SchedulerConfig, SchedulerDeps } from "./scheduler-settings.js";

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
	/** When this instance last claimed (renewed its leases and took new runs), and whether it must now. */
	private lastClaim = 0;
	private isClaimDue = true;
	private lastReclaim = 0;
	private lastMaintenance = 0;
	private jobCache = new Map<string, JobRow[]>();
	private readonly views = new RunViews();
	private readonly listeners = new Set<(workflowId: string) => void>();
	private readonly staging: StagingPhase | undefined;

	private readonly events: RunEvents;
	private readonly submitter: JobSubmitter;
	private readonly observer: JobObserver;

	constructor(
		private readonly config: SchedulerConfig,
		private readonly deps: SchedulerDeps,
	) {
		for (const [name, b] of deps.backends)
			this.backends.set(name, new GuardedBackend(b, deps.clock, () => this.wake()));
		this.events = new RunEvents(deps.db, deps.clock, (id) => this.notify(id));
		this.submitter = new JobSubmitter(config, deps, this.backends, this.events);
		this.observer = new JobObserver(deps, this.backends, this.events, this.submitter);
		const { secretsOf } = deps;
		if (config.staging && secretsOf) {
			this.staging = new StagingPhase({
				db: deps.db,
				clock: deps.clock,
				logger: deps.logger,
				config: config.staging,
				secretsOf,
				wake: () => this.wake(),
				notify: (id) => this.notify(id),
				record: (events) => this.events.record(events),
			});
		}
	}

	/** Checks a run's staging before it starts (URLs, credentials, allowed hosts), without moving data. */
	async checkStaging(wf: WorkflowRow): Promise<void> {
		await this.staging?.check(wf);
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
		await this.staging?.close();
		await this.deps.db.kysely
			.updateTable("workflows")
			.set({ lease_owner: null, lease_expires_at: null })
			.where("lease_owner", "=", this.config.instanceId)
			.execute();
	}

	/**
	 * Makes the loop run its next tick now; `claim` when there may be a run this instance has not
	 * leased yet (one was started), so the tick claims instead of only reading its leased runs.
	 */
	wake(options: { claim?: boolean } = {}): void {
		if (options.claim) this.isClaimDue = true;
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

	/** One pass over every active workflow this instance holds a lease on. */
	async tick(): Promise<void> {
		const { db, clock } = this.deps;
		const now = clock.now();
		if (now.getTime() - this.lastReclaim > 5000) {
			this.lastReclaim = now.getTime();
			if (await reclaimDeadLocalLeases(this.deps, this.config.instanceId)) this.isClaimDue = true;
		}
		if (now.getTime() - this.lastMaintenance > 60_000) {
			this.lastMaintenance = now.getTime();
			await maintain(this.deps, now);
		}
		// Claiming rewrites every leased row; between claims (a third of the lease apart, or when a run
		// was started or ended) a tick only reads the runs it holds, with a lease lasting well beyond it.
		const renewEvery = this.config.leaseMs / 3;
		let claimed: WorkflowRow[];
		if (this.isClaimDue || now.getTime() - this.lastClaim >= renewEvery) {
			this.isClaimDue = false; // a wake-up asking for a claim while this one runs asks again
			try {
				claimed = await claimWorkflows(
					db,
					this.config.instanceId,
					now.toISOString(),
					new Date(now.getTime() + this.config.leaseMs).toISOString(),
					this.config.maxWorkflowsPerTick,
				);
			} catch (error) {
				this.isClaimDue = true; // the next tick tries again, not a third of a lease later
				throw error;
			}
			this.lastClaim = now.getTime();
		} else {
			claimed = await listLeasedWorkflows(
				db,
				this.config.instanceId,
				new Date(now.getTime() + renewEvery).toISOString(),
				this.config.maxWorkflowsPerTick,
			);
		}
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
		this.views.retain(new Set(jobsOf.keys()));
		await this.observer.observe(claimed, jobsOf);
		for (const wf of claimed) {
			try {
				await this.advance(wf, jobsOf.get(wf.id) ?? []);
			} catch (error) {
				await this.failOnError(wf, error);
			}
		}
	}

	/** Takes one workflow one step forward. */
	private async advance(wf: WorkflowRow, jobs: JobRow[]): Promise<void> {
		if (wf.stop_requested_at) {
			this.staging?.cancel(wf.id);
			await this.stopRun(wf, jobs);
			return;
		}
		// Remote inputs are staged before the first job; the engine is not asked while outputs are published.
		if (this.staging && jobs.length === 0) {
			const gate = await this.staging.beforeJobs(wf);
			if (gate.state !== "ready") {
				await this.holdForStaging(wf, gate);
				return;
			}
		}
		if (this.staging?.isPublishing(wf.id)) return;
		// Jobs persisted but not yet accepted by a backend (the server died in between): submit again.
		for (const job of jobs.filter((j) => j.status === "created")) await this.submitter.submit(wf, job);
		const engine = this.deps.engines.get(wf.type as WorkflowType);
		if (!engine) throw new AppError("validation_failed", `no engine for workflow type '${wf.type}' in this server`);
		const isCollected = engine.collect !== undefined;
		let state = { ...runState(wf, jobs, this.views.of(wf.id, jobs, isCollected)), wake: () => this.wake() };
		// The engine decides from the outputs just collected, not a tick later (a run whose last job
		// ended would otherwise wait for the next wake-up or the idle timer to be declared finished).
		if (await this.collectEnded(engine, state, jobs))
			state = { ...state, jobs: this.views.of(wf.id, jobs, isCollected) };
		const step = await engine.next(state);
		await this.act(wf, jobs, step);
	}

	/** Lets the engine collect the outputs of jobs that finished; true when it collected any. */
	private async collectEnded(
		engine: WorkflowEngine,
		state: ReturnType<typeof runState>,
		jobs: JobRow[],
	): Promise<boolean> {
		if (!engine.collect) return false;
		const collected: JobUpdate[] = [];
		try {
			for (const job of jobs) {
				if (job.status !== "finished" || job.outputs !== null) continue;
				const outputs = await engine.collect(state, toJobView(job));
				collected.push({ id: job.id, patch: { outputs: JSON.stringify(outputs ?? null) }, events: [] });
			}
		} finally {
			// One transaction for all the jobs collected this tick (including those before a failure).
			await updateJobsWithEvents(this.deps.db, collected);
		}
		const byId = new Map(collected.map((c) => [c.id, c.patch]));
		for (const job of jobs) {
			const patch = byId.get(job.id);
			if (patch) Object.assign(job, patch);
		}
		return collected.length > 0;
	}

	private async act(wf: WorkflowRow, jobs: JobRow[], step: EngineStep): Promise<void> {
		const { db } = this.deps;
		const at = isoNow(this.deps.clock);
		if (step.kind === "submit") {
			await this.submitter.submitRequests(wf, jobs, step.jobs);
		}
		// Running as soon as a job went to a backend (in the tick that sent it, not the next one);
		// pending while the run is accepted but none has.
		const hasJobs = jobs.some((j) => j.status !== "created");
		if (wf.status === "queued" || (wf.status === "pending" && hasJobs)) {
			const next = hasJobs ? "running" : "pending";
			await transitionWorkflow(db, wf.id, [wf.status], {
				status: next,
				updated_at: at,
				...(next === "running" ? { started_at: wf.started_at ?? at } : {}),
			});
			await this.events.record([this.events.event(wf.id, null, `workflow_${next}`, `workflow is ${next}`)]);
			wf.status = next;
		}
		const progress = JSON.stringify(computeProgress(jobs, step.total));
		if (step.kind === "done" || step.kind === "failed") {
			if (jobs.some((j) => activeJobStatuses.includes(j.status))) return; // let running siblings finish first
			let ok = step.kind === "done";
			let message = step.kind === "done" ? "workflow finished successfully" : step.reason;
			if (step.kind === "done" && this.staging) {
				const gate = await this.staging.afterSuccess(wf, step.outputs);
				if (gate.state === "busy") return;
				if (gate.state === "failed") {
					ok = false;
					message = gate.reason;
				} else {
					const targets = (await this.staging.publishedTo(wf.id)).map((t) => t.url);
					if (targets.length > 0) message = `${message}; outputs published to ${targets.join(", ")}`;
				}
			}
			await transitionWorkflow(db, wf.id, ["queued", "pending", "running"], {
				status: ok ? "finished" : "failed",
				status_message: message,
				progress,
				...(ok && step.kind === "done" && step.outputs !== undefined ? { outputs: JSON.stringify(step.outputs) } : {}),
				finished_at: at,
				updated_at: at,
				started_at: wf.started_at ?? at,
				lease_owner: null,
				lease_expires_at: null,
			});
			await this.events.record([
				this.events.event(wf.id, null, ok ? "workflow_finished" : "workflow_failed", message, ok ? "info" : "error"),
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

	private async stopRun(wf: WorkflowRow, jobs: JobRow[]): Promise<void> {
		const { db } = this.deps;
		const at = isoNow(this.deps.clock);
		const live = jobs.filter((j) => !terminalJob.has(j.status));
		// All cancels go out together, so a backend can merge them (one scancel for a whole fan-out).
		await Promise.all(
			live.map(async (job) => {
				if (!job.backend_ref) return;
				try {
					await this.backends.get(job.backend)?.cancel(job.backend_ref);
				} catch (error) {
					this.deps.logger.warn({ err: error, job: job.id }, "cancel failed");
				}
			}),
		);
		for (const job of live) {
			await updateJob(db, job.id, { status: "stopped", finished_at: at, message: "stopped by request" });
			await this.submitter.clearSecrets(job);
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
		await this.events.record([
			this.events.event(wf.id, null, "workflow_stopped", "workflow stopped by request", "warning"),
		]);
		await this.ended(wf);
	}

	/** Waits for stage-in: the run shows as pending; a failed stage-in fails it before any job. */
	private async holdForStaging(wf: WorkflowRow, gate: Exclude<StagingGate, { state: "ready" }>): Promise<void> {
		if (gate.state === "failed") {
			await this.failOnError(wf, new AppError("validation_failed", gate.reason));
			return;
		}
		if (wf.status !== "queued") return;
		const at = isoNow(this.deps.clock);
		await transitionWorkflow(this.deps.db, wf.id, ["queued"], { status: "pending", updated_at: at });
		await this.events.record([
			this.events.event(wf.id, null, "workflow_pending", "workflow is pending: staging inputs"),
		]);
		wf.status = "pending";
	}

	/** A run ended: measure it and account for it (a crash before this is caught up by `maintain`). */
	private async ended(wf: WorkflowRow): Promise<void> {
		this.jobCache.delete(wf.id);
		this.views.forget(wf.id);
		this.isClaimDue = true; // room for a run that waited for the per-tick limit
		this.staging?.cancel(wf.id);
		this.notify(wf.id);
		try {
			await recordRunEnd(this.deps.db, this.deps.clock, wf);
		} catch (error) {
			this.deps.logger.warn({ err: error, workflow: wf.id }, "accounting for an ended run failed; will retry");
		}
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
		await this.events.record([this.events.event(wf.id, null, "workflow_failed", message, "error")]);
		await this.ended(wf);
	}

	private notify(workflowId: string): void {
		for (const l of this.listeners) l(workflowId);
	}
}

function sleep(ms: number): Promise<void> {
	return new Promise((r) => setTimeout(r, ms));
}
