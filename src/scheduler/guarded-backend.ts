import type { BackendJob, ComputeBackend, JobIdentity, JobObservation, Submission } from "../backends/index.js";
import { AppError, type Clock } from "../common/index.js";

// After a failed cancel the next one waits 1 s, doubling with each failure up to a minute.
const cancelRetryMs = { first: 1000, max: 60_000 };

/** A cancel not sent because the last one of the same job failed a moment ago; try again after `retryAt`. */
export class CancelDeferredError extends AppError {
	constructor(
		readonly ref: string,
		readonly retryAt: Date,
	) {
		super("backend_unavailable", `cancelling ${ref} failed; retrying after ${retryAt.toISOString()}`, {
			retryable: true,
		});
		this.name = "CancelDeferredError";
	}
}

/**
 * Wraps a backend so the core guards its lifecycle: polls are throttled to the backend's cadence
 * (unless a job was reported changed), concurrent submits of one job collapse into one, a cancel
 * is sent until it succeeds (and no more after that; failed ones are retried with a growing pause),
 * and observations for refs that were not asked about are dropped.
 */
export class GuardedBackend {
	private lastPoll = 0;
	private readonly changed = new Set<string>();
	private readonly inflight = new Map<string, Promise<Submission>>();
	private readonly cancelled = new Set<string>();
	private readonly cancelling = new Map<string, Promise<void>>();
	private readonly cancelFailures = new Map<string, { count: number; retryAt: number }>();
	/** Number of poll calls made, for metrics and benchmarks. */
	pollCalls = 0;

	constructor(
		readonly backend: ComputeBackend,
		private readonly clock: Clock,
		private readonly onWake: () => void,
	) {
		backend.onChange?.((ref) => {
			this.changed.add(ref);
			this.onWake();
		});
	}

	get name(): string {
		return this.backend.name;
	}

	/** Submits once per job id, however often it is called while the first call is running. */
	submit(job: BackendJob, signal?: AbortSignal): Promise<Submission> {
		let p = this.inflight.get(job.id);
		if (!p) {
			p = this.backend.submit(job, signal).finally(() => this.inflight.delete(job.id));
			this.inflight.set(job.id, p);
		}
		return p;
	}

	/** Polls the given refs if the cadence allows it (or some of them were reported changed); otherwise nothing. */
	async poll(refs: readonly string[]): Promise<Map<string, JobObservation>> {
		if (refs.length === 0) return new Map();
		const now = this.clock.now().getTime();
		const isDue = now - this.lastPoll >= this.backend.capabilities.pollIntervalMs;
		const wanted = isDue ? refs : refs.filter((r) => this.changed.has(r));
		if (wanted.length === 0) return new Map();
		for (const r of wanted) this.changed.delete(r);
		if (isDue) this.lastPoll = now;
		this.pollCalls++;
		const seen = await this.backend.poll(wanted);
		const asked = new Set(wanted);
		for (const ref of seen.keys()) if (!asked.has(ref)) seen.delete(ref);
		return seen;
	}

	/**
	 * Cancels a job until the backend says it did: after a success later calls do nothing, concurrent
	 * calls share one, and a failure rejects (the ref is not taken as cancelled). A call within the
	 * pause after a failure rejects with `CancelDeferredError` without asking the backend.
	 */
	cancel(ref: string): Promise<void> {
		if (this.cancelled.has(ref)) return Promise.resolve();
		const pending = this.cancelling.get(ref);
		if (pending !== undefined) return pending;
		const failure = this.cancelFailures.get(ref);
		if (failure && this.clock.now().getTime() < failure.retryAt)
			return Promise.reject(new CancelDeferredError(ref, new Date(failure.retryAt)));
		const attempt = this.backend.cancel(ref).then(
			() => {
				this.cancelled.add(ref);
				this.cancelFailures.delete(ref);
			},
			(error: unknown) => {
				const count = (failure?.count ?? 0) + 1;
				const pause = Math.min(cancelRetryMs.first * 2 ** (count - 1), cancelRetryMs.max);
				this.cancelFailures.set(ref, { count, retryAt: this.clock.now().getTime() + pause });
				throw error;
			},
		);
		const shared = attempt.finally(() => this.cancelling.delete(ref));
		this.cancelling.set(ref, shared);
		return shared;
	}

	/** The ref of a job whose ref was never recorded (see `ComputeBackend.find`), after any submission of it under way. */
	async find(job: JobIdentity): Promise<string | undefined> {
		await this.inflight.get(job.id)?.catch(() => undefined);
		return this.backend.find(job);
	}

	/** Forces the next poll regardless of cadence (after a restart, to re-attach at once). */
	markAllDue(): void {
		this.lastPoll = 0;
	}
}
