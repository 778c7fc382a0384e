import { AppError, isAppError, isoNow, messageOf } from "../common/index.js";
import {
	activeJobStatuses,
	activeWorkflowStatuses,
	claimWorkflows,
	type JobRow,
	type JobUpdate,
	listJobs,
	listLeasedWorkflows,
	transientDatabaseError,
	transitionLeasedWorkflow,
	updateJobsWithEvents,
	updateWorkflow,
	type WorkflowRow,
} from "../db/index.js";
import type { EngineStep, WorkflowEngine } from "../engines/index.js";
import type { WorkflowType } from "../spec/index.js";
import { recordRunEnd } from "./accounting.js";
import { CancelDeferredError, GuardedBackend } from "./guarded-backend.js";
import { type CacheDecision, JobCaching } from "./job-cache.js";
import { JobObserver } from "./job-observer.js";
import { JobSubmitter } from "./job-submitter.js";
import { maintain, reclaimDeadLocalLeases } from "./maintenance.js";
import { computeProgress } from "./progress.js";
import { RunEvents } from "./run-events.js";
import { LeaseLostError, RunLeases } from "./run-leases.js";
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
	private readonly leases: RunLeases;
	private readonly submitter: JobSubmitter;
	private readonly observer: JobObserver;
	private readonly caching: JobCaching;

	constructor(
		private readonly config: SchedulerConfig,
		private readonly deps: SchedulerDeps,
	) {
		for (const [name, b] of deps.backends)
			this.backends.set(name, new GuardedBackend(b, deps.clock, () => this.wake()));
		this.events = new RunEvents(deps.db, deps.clock, (id) => this.notify(id));
		this.leases = new RunLeases(deps.db, config.instanceId, config.leaseMs, deps.clock, deps.logger);
		this.submitter = new JobSubmitter(config, deps, this.backends, this.events, this.leases);
		this.observer = new JobObserver(deps, this.backends, this.events, this.submitter, this.leases);
		this.caching = new JobCaching(
			deps,
			() => this.wake(),
			(id) => !this.leases.isLost(id),
		);
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
			this.leases.claimed(claimed.map((wf) => wf.id));
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
			// A run whose lease was found gone (here or while observing) is left to its new holder; a tick
			// that outlasts the lease finds that out before each backend call and each write of its state.
			if (this.leases.isLost(wf.id)) {
				this.leaveRun(wf.id);
				continue;
			}
			const jobs = jobsOf.get(wf.id) ?? [];
			try {
				await this.advance(wf, jobs);
			} catch (error) {
				await this.failOnError(wf, error, jobs);
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
		// Jobs persisted but not yet accepted by a backend (the server died in between, or their cache
		// check was due): submit them (again), or take their results from the cache.
		for (const job of jobs.filter((j) => j.status === "created")) {
			if (JobCaching.applies(job)) {
				const decision = this.caching.check(wf, job);
				if (decision === "busy") continue;
				if (decision.hit) {
					await this.takeFromCache(wf, job, decision);
					this.caching.taken(wf.id, job.id);
					continue;
				}
			}
			await this.submitter.submit(wf, job);
			if (JobCaching.applies(job)) this.caching.taken(wf.id, job.id);
		}
		const engine = this.deps.engines.get(wf.type as WorkflowType);
		if (!engine) throw new AppError("validation_failed", `no engine for workflow type '${wf.type}' in this server`);
		const isCollected = engine.collect !== undefined;
		let state = { ...runState(wf, jobs, this.views.of(wf.id, jobs, isCollected)), wake: () => this.wake() };
		// The engine decides from the outputs just collected, not a tick later (a run whose last job
		// ended would otherwise wait for the next wake-up or the idle timer to be declared finished).
		if (await this.collectEnded(wf, engine, state, jobs))
			state = { ...state, jobs: this.views.of(wf.id, jobs, isCollected) };
		const step = await engine.next(state);
		await this.act(wf, jobs, step);
	}

	/** Lets the engine collect the outputs of jobs that finished; true when it collected any. */
	private async collectEnded(
		wf: WorkflowRow,
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
			if (!patch) continue;
			Object.assign(job, patch);
			// A job that ran (not one reused) and whose folder is its result is recorded for CACHE=on.
			if (job.cached_from === null) this.caching.recordFolder(wf, job);
		}
		return collected.length > 0;
	}

	private async act(wf: WorkflowRow, jobs: JobRow[], step: EngineStep): Promise<void> {
		const { db } = this.deps;
		const at = isoNow(this.deps.clock);
		if (step.kind === "submit") {
			// Jobs that may come from the cache are checked first (next tick, once their check is done).
			const held = await this.submitter.submitRequests(wf, jobs, step.jobs, JobCaching.applies);
			if (held) this.wake();
		}
		// Running as soon as a job went to a backend (in the tick that sent it, not the next one);
		// pending while the run is accepted but none has.
		const hasJobs = jobs.some((j) => j.status !== "created");
		if (wf.status === "queued" || (wf.status === "pending" && hasJobs)) {
			const next = hasJobs ? "running" : "pending";
			const isMoved = await transitionLeasedWorkflow(db, wf.id, this.config.instanceId, [wf.status], {
				status: next,
				updated_at: at,
				...(next === "running" ? { started_at: wf.started_at ?? at } : {}),
			});
			if (!isMoved) throw new LeaseLostError(wf.id); // the event tells of a change only when it happened
			await this.events.record([this.events.event(wf.id, null, `workflow_${next}`, `workflow is ${next}`)]);
			wf.status = next;
		}
		const progress = JSON.stringify(computeProgress(jobs, step.total));
		if (step.kind === "done" || step.kind === "failed") {
			if (jobs.some((j) => activeJobStatuses.includes(j.status))) return; // let running siblings finish first
			// What the last jobs changed is recorded for the cache before the run is declared ended.
			if (this.caching.settle(wf) === "busy") return;
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
			const isEnded = await transitionLeasedWorkflow(db, wf.id, this.config.instanceId, activeWorkflowStatuses, {
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
			if (!isEnded) throw new LeaseLostError(wf.id);
			await this.events.record([
				this.events.event(wf.id, null, ok ? "workflow_finished" : "workflow_failed", message, ok ? "info" : "error"),
			]);
			await this.ended(wf);
			return;
		}
		if (progress !== wf.progress) {
			await transitionLeasedWorkflow(db, wf.id, this.config.instanceId, [wf.status], { progress, updated_at: at });
			wf.progress = progress;
			this.notify(wf.id);
		}
	}

	/**
	 * Stops a run whose stop was requested. A job is marked stopped only once its backend cancelled it
	 * (jobs never recorded as accepted are first looked for on the backend, see `ComputeBackend.find`);
	 * a job whose cancel failed stays as it is, and so does the run, with its stop request: every later
	 * tick (of this server or, after a crash, of the next) tries again, until the run's last job is
	 * stopped or has ended. Only then is the run `stopped`.
	 */
	private async stopRun(wf: WorkflowRow, jobs: JobRow[]): Promise<void> {
		const { db } = this.deps;
		const at = isoNow(this.deps.clock);
		const live = jobs.filter((j) => !terminalJob.has(j.status));
		// All cancels go out together, so a backend can merge them (one scancel for a whole fan-out).
		const failures = new Map<JobRow, unknown>();
		// Cancels go out only while the run's lease is ours, like submissions.
		if (live.length > 0)
			await this.leases.during(wf.id, () =>
				Promise.all(
					live.map(async (job) => {
						try {
							await this.cancelJob(job);
						} catch (error) {
							failures.set(job, error);
						}
					}),
				),
			);
		const cancelled = live.filter((job) => !failures.has(job));
		const message = "stopped by request";
		const applied = await this.events.recordJobUpdates(
			cancelled.map((job) => ({
				id: job.id,
				patch: { status: "stopped", finished_at: at, message },
				events: [],
				from: [job.status],
			})),
		);
		for (const job of cancelled) {
			// Changed by someone else since it was read: another scheduler holds the run now.
			if (!applied.has(job.id)) throw new LeaseLostError(wf.id);
			await this.submitter.clearSecrets(job);
			job.status = "stopped";
		}
		if (failures.size > 0) {
			await this.stopPending(wf, failures);
			return;
		}
		const isStopped = await transitionLeasedWorkflow(
			db,
			wf.id,
			this.config.instanceId,
			["queued", "pending", "running"],
			{
				status: "stopped",
				status_message: "workflow stopped by request",
				progress: JSON.stringify(computeProgress(jobs)),
				finished_at: at,
				updated_at: at,
				lease_owner: null,
				lease_expires_at: null,
			},
		);
		if (!isStopped) throw new LeaseLostError(wf.id);
		await this.events.record([
			this.events.event(wf.id, null, "workflow_stopped", "workflow stopped by request", "warning"),
		]);
		await this.ended(wf);
	}

	/** Cancels one job on its backend, finding it there first when its ref was never recorded. */
	private async cancelJob(job: JobRow): Promise<void> {
		const backend = this.backends.get(job.backend);
		if (!backend) throw new AppError("internal", `compute backend '${job.backend}' is not configured`);
		const ref = job.backend_ref ?? (await backend.find({ id: job.id, jobDir: job.job_dir }));
		if (ref) await backend.cancel(ref);
	}

	/**
	 * Tells (in the run's log and status message) that some jobs could not be cancelled yet. Cancels
	 * merely deferred (their backend failed a moment ago) are not told again, so a backend that stays
	 * down adds a line per retry with a growing pause, not one per tick.
	 */
	private async stopPending(wf: WorkflowRow, failures: ReadonlyMap<JobRow, unknown>): Promise<void> {
		const fresh = [...failures].filter(([, error]) => !(error instanceof CancelDeferredError));
		if (fresh.length === 0) return;
		for (const [job, error] of fresh)
			this.deps.logger.warn({ err: error, job: job.id }, "cancel failed; the job is not stopped yet, retrying");
		const [first, firstError] = fresh[0] as [JobRow, unknown];
		const backends = [...new Set(fresh.map(([j]) => j.backend))].join(", ");
		const message = `stopping: ${failures.size} job${failures.size > 1 ? "s" : ""} not cancelled yet (${backends}: ${messageOf(firstError)}); retrying`;
		await updateWorkflow(this.deps.db, wf.id, { status_message: message, updated_at: isoNow(this.deps.clock) });
		await this.events.record([this.events.event(wf.id, first.id, "job_cancel_retry", message, "warning")]);
	}

	/** Waits for stage-in: the run shows as pending; a failed stage-in fails it before any job. */
	private async holdForStaging(wf: WorkflowRow, gate: Exclude<StagingGate, { state: "ready" }>): Promise<void> {
		if (gate.state === "failed") {
			await this.failOnError(wf, new AppError("validation_failed", gate.reason));
			return;
		}
		if (wf.status !== "queued") return;
		const at = isoNow(this.deps.clock);
		const isMoved = await transitionLeasedWorkflow(this.deps.db, wf.id, this.config.instanceId, ["queued"], {
			status: "pending",
			updated_at: at,
		});
		if (!isMoved) throw new LeaseLostError(wf.id);
		await this.events.record([
			this.events.event(wf.id, null, "workflow_pending", "workflow is pending: staging inputs"),
		]);
		wf.status = "pending";
	}

	/** A run ended: measure it and account for it (a crash before this is caught up by `maintain`). */
	/** Marks a job finished with the results of an earlier one (already copied into its workspace). */
	private async takeFromCache(
		wf: WorkflowRow,
		job: JobRow,
		decision: Extract<CacheDecision, { hit: true }>,
	): Promise<void> {
		const at = isoNow(this.deps.clock);
		const { from, applied } = decision;
		const run = `${from.run_name}.${from.run_number}${from.run_minor > 0 ? `.${from.run_minor}` : ""}`;
		const copied =
			applied.copied === 0
				? "its files were in place"
				: `${applied.copied} ${applied.copied === 1 ? "file" : "files"} copied`;
		const patch: Partial<JobRow> = {
			status: "finished",
			exit_code: 0,
			cached_from: from.job_id,
			submitted_at: at,
			started_at: at,
			finished_at: at,
			message: `reused the results of step ${from.step_name} of ${run} (CACHE=on)`,
		};
		const event = this.events.event(
			wf.id,
			job.id,
			"job_cached",
			`${job.step_name}: not run, the results of ${run} reused (${decision.basis}; ${copied})`,
		);
		if (!(await this.events.recordJobUpdate(job.id, patch, [event], ["created"]))) throw new LeaseLostError(wf.id);
		Object.assign(job, patch);
	}

	private async ended(wf: WorkflowRow): Promise<void> {
		this.caching.forget(wf.id);
		this.jobCache.delete(wf.id);
		this.views.forget(wf.id);
		this.leases.forget(wf.id);
		this.isClaimDue = true; // room for a run that waited for the per-tick limit
		this.staging?.cancel(wf.id);
		this.notify(wf.id);
		try {
			await recordRunEnd(this.deps.db, this.deps.clock, wf);
		} catch (error) {
			this.deps.logger.warn({ err: error, workflow: wf.id }, "accounting for an ended run failed; will retry");
		}
	}

	/**
	 * Handles an error of advancing a run. A lost lease leaves the run to its new holder. A retryable
	 * error (a backend, or the database, unavailable for now: busy, locked, a dropped connection, a
	 * serialization failure) is tried again next tick, with the run's jobs read afresh. Anything else
	 * fails the run, after its live jobs are cancelled as a stop cancels them (none is left running
	 * unwatched); while a cancel fails, the run stays as it is and the next tick tries again.
	 */
	private async failOnError(wf: WorkflowRow, error: unknown, jobs: JobRow[] = []): Promise<void> {
		const { db } = this.deps;
		if (error instanceof LeaseLostError || this.leases.isLost(wf.id)) {
			this.deps.logger.info({ workflow: wf.id }, "the run's lease went elsewhere; leaving the run to its holder");
			this.leaveRun(wf.id);
			return;
		}
		const cause = transientDatabaseError(error) ?? error;
		const isUserError = isAppError(cause) && cause.code === "validation_failed";
		if (!isUserError && isAppError(cause) && cause.retryable) {
			this.deps.logger.warn({ err: error, workflow: wf.id }, "advancing a workflow failed; will retry");
			// What is in memory may be ahead of what was committed: the next tick reads the run afresh.
			this.jobCache.delete(wf.id);
			this.views.forget(wf.id);
			return;
		}
		if (!isUserError) this.deps.logger.error({ err: error, workflow: wf.id }, "advancing a workflow failed");
		const message = isUserError ? cause.message : "internal error while running the workflow; see the server log";
		try {
			if (!(await this.cancelLiveJobs(wf, jobs, `stopped: the workflow failed (${message})`))) return;
		} catch (cancelError) {
			if (!(cancelError instanceof LeaseLostError)) throw cancelError;
			this.leaveRun(wf.id);
			return;
		}
		const at = isoNow(this.deps.clock);
		const isFailed = await transitionLeasedWorkflow(db, wf.id, this.config.instanceId, activeWorkflowStatuses, {
			status: "failed",
			status_message: message,
			progress: JSON.stringify(computeProgress(jobs)),
			finished_at: at,
			updated_at: at,
			lease_owner: null,
			lease_expires_at: null,
		});
		if (!isFailed) {
			this.leaveRun(wf.id);
			return;
		}
		await this.events.record([this.events.event(wf.id, null, "workflow_failed", message, "error")]);
		await this.ended(wf);
	}

	/**
	 * Cancels the live jobs of a run that fails, through the same cancel as a stop (which finds a job
	 * whose ref was never recorded on its backend), and marks those cancelled `stopped`. False when
	 * some cancel failed: those jobs stay as they are, to be cancelled again at the next tick.
	 */
	private async cancelLiveJobs(wf: WorkflowRow, jobs: JobRow[], message: string): Promise<boolean> {
		const live = jobs.filter((j) => !terminalJob.has(j.status));
		if (live.length === 0) return true;
		const cancelled: JobRow[] = [];
		await this.leases.during(wf.id, () =>
			Promise.all(
				live.map(async (job) => {
					try {
						await this.cancelJob(job);
						cancelled.push(job);
					} catch (error) {
						this.deps.logger.warn({ err: error, job: job.id }, "cancelling a job of a failing run failed; retrying");
					}
				}),
			),
		);
		const at = isoNow(this.deps.clock);
		const applied = await this.events.recordJobUpdates(
			cancelled.map((job) => ({
				id: job.id,
				patch: { status: "stopped", finished_at: at, message },
				events: [this.events.event(wf.id, job.id, "job_stopped", `${job.step_name}: ${message}`, "warning")],
				from: [job.status],
			})),
		);
		for (const job of cancelled) {
			if (!applied.has(job.id)) throw new LeaseLostError(wf.id);
			Object.assign(job, { status: "stopped", finished_at: at, message });
			await this.submitter.clearSecrets(job);
		}
		return cancelled.length === live.length;
	}

	/** Drops what this instance keeps of a run it no longer holds (another instance does now, or the run moved on). */
	private leaveRun(workflowId: string): void {
		this.caching.forget(workflowId);
		this.leases.markLost(workflowId);
		this.jobCache.delete(workflowId);
		this.views.forget(workflowId);
		this.staging?.cancel(workflowId);
	}

	private notify(workflowId: string): void {
		for (const l of this.listeners) l(workflowId);
	}
}

function sleep(ms: number): Promise<void> {
	return new Promise((r) => setTimeout(r, ms));
}
