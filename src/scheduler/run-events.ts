import { type Clock, isoNow } from "../common/index.js";
import {
	appendEvents,
	type Db,
	type JobRow,
	type JobStatus,
	type JobUpdate,
	type NewEvent,
	updateJobsWithEvents,
	updateJobWithEvents,
} from "../db/index.js";

/** Writes runs' event logs and tells listeners (live streams) after each write. */
export class RunEvents {
	constructor(
		private readonly db: Db,
		private readonly clock: Clock,
		private readonly notify: (workflowId: string) => void,
	) {}

	/** Persists events, then tells listeners (who will read them from the database). */
	async record(events: NewEvent[]): Promise<void> {
		await appendEvents(this.db, events);
		for (const id of new Set(events.map((e) => e.workflow_id))) this.notify(id);
	}

	/**
	 * Updates a job and persists the events about it in one transaction, then tells listeners. With
	 * `from`, only while the job is still in one of those states; returns whether it was updated.
	 */
	async recordJobUpdate(
		jobId: string,
		patch: Partial<Omit<JobRow, "id">>,
		events: NewEvent[],
		from?: readonly JobStatus[],
	): Promise<boolean> {
		const isUpdated = await updateJobWithEvents(this.db, jobId, patch, events, from);
		if (isUpdated) for (const id of new Set(events.map((e) => e.workflow_id))) this.notify(id);
		return isUpdated;
	}

	/**
	 * Updates several jobs and persists their events in one transaction, then tells listeners; returns
	 * the ids of the jobs updated (an update with `from` is skipped when its job moved on).
	 */
	async recordJobUpdates(updates: readonly JobUpdate[]): Promise<Set<string>> {
		if (updates.length === 0) return new Set();
		const applied = await updateJobsWithEvents(this.db, updates);
		const changed = updates.filter((u) => applied.has(u.id));
		for (const id of new Set(changed.flatMap((u) => u.events.map((e) => e.workflow_id)))) this.notify(id);
		return applied;
	}

	/** A new event of a run (or of one of its jobs). */
	event(
		workflowId: string,
		jobId: string | null,
		type: string,
		message: string,
		level: NewEvent["level"] = "info",
	): NewEvent {
		return { workflow_id: workflowId, job_id: jobId, at: isoNow(this.clock), level, type, message };
	}
}
