import { AppError, type Clock, type Logger } from "../common/index.js";
import { type Db, renewLease } from "../db/index.js";

/** The run's lease went to another scheduler instance, or ran out: this one must leave the run alone. */
export class LeaseLostError extends AppError {
	constructor(readonly workflowId: string) {
		super("conflict", `this scheduler no longer holds the lease on run ${workflowId}, or the run moved on`, {
			retryable: true,
		});
		this.name = "LeaseLostError";
	}
}

/**
 * The leases of one scheduler instance, as seen before each side effect. A backend is only asked to
 * submit or cancel while the run's lease is ours: it is checked and renewed in the database (by the
 * database's clock) first, at most once per `leaseMs / 10` per run (a fan-out of hundreds of
 * submissions renews once, not per job), and renewed every `leaseMs / 3` while a call is under way (an
 * sbatch may take a minute, twice the lease). Once a run's lease is found gone it stays lost until
 * the run is claimed again.
 */
export class RunLeases {
	private readonly renewedAt = new Map<string, number>();
	private readonly lost = new Set<string>();

	constructor(
		private readonly db: Db,
		private readonly owner: string,
		private readonly leaseMs: number,
		private readonly clock: Clock,
		private readonly logger: Logger,
	) {}

	/** The runs were just claimed (their leases written): nothing about them is lost, and they need no renewal yet. */
	claimed(ids: Iterable<string>): void {
		const now = this.clock.now().getTime();
		for (const id of ids) {
			this.lost.delete(id);
			this.renewedAt.set(id, now);
		}
	}

	/** True once the run's lease was found gone (until it is claimed again). */
	isLost(id: string): boolean {
		return this.lost.has(id);
	}

	/** Marks a run's lease as gone: another writer changed what this instance thought it alone changes. */
	markLost(id: string): void {
		this.lost.add(id);
		this.renewedAt.delete(id);
	}

	/** Forgets a run (it ended). */
	forget(id: string): void {
		this.lost.delete(id);
		this.renewedAt.delete(id);
	}

	/** Makes sure the run's lease is still ours, for a good while yet; throws `LeaseLostError` if not. */
	async hold(id: string): Promise<void> {
		if (this.lost.has(id)) throw new LeaseLostError(id);
		const last = this.renewedAt.get(id);
		if (last !== undefined && this.clock.now().getTime() - last < this.leaseMs / 10) return;
		if (!(await this.renew(id))) throw new LeaseLostError(id);
	}

	/** Runs a side effect on a run while holding its lease, renewing it as long as the effect lasts. */
	async during<T>(id: string, effect: () => Promise<T>): Promise<T> {
		await this.hold(id);
		const timer = setInterval(() => {
			this.renew(id).catch((error: unknown) => this.logger.warn({ err: error, workflow: id }, "lease renewal failed"));
		}, this.leaseMs / 3);
		try {
			return await effect();
		} finally {
			clearInterval(timer);
		}
	}

	private async renew(id: string): Promise<boolean> {
		const at = this.clock.now().getTime();
		const isHeld = await renewLease(this.db, id, this.owner, this.leaseMs);
		if (isHeld) this.renewedAt.set(id, at);
		else this.markLost(id);
		return isHeld;
	}
}
