import type { BackendJob, ComputeBackend, JobObservation, Submission } from "../backends/index.js";
import type { Clock } from "../common/index.js";

/**
 * Wraps a backend so the core guards its lifecycle: polls are throttled to the backend's cadence
 * (unless a job was reported changed), concurrent submits of one job collapse into one, a cancel
 * is sent once, and observations for refs that were not asked about are dropped.
 */
export class GuardedBackend {
	private lastPoll = 0;
	private readonly changed = new Set<string>();
	private readonly inflight = new Map<string, Promise<Submission>>();
	private readonly cancelled = new Set<string>();
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

	/** Cancels a job once; later calls for the same ref do nothing. */
	async cancel(ref: string): Promise<void> {
		if (this.cancelled.has(ref)) return;
		this.cancelled.add(ref);
		await this.backend.cancel(ref);
	}

	/** Forces the next poll regardless of cadence (after a restart, to re-attach at once). */
	markAllDue(): void {
		this.lastPoll = 0;
	}
}
