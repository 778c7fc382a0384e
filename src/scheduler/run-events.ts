import { type Clock, isoNow } from "../common/index.js";
import {
	appendEvents,
	type Db,
	type JobRow,
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

	/** Updates a job and persists the events about it in one transaction, then tells listeners. */
	async recordJobUpdate(jobId: string, patch: Partial<Omit<JobRow, "id">>, events: NewEvent[]): Promise<void> {
		await updateJobWithEvents(this.db, jobId, patch, events);
		for (const id of new Set(events.map((e) => e.workflow_id))) this.notify(id);
	}

	/** Updates several jobs and persists their events in one transaction, then tells listeners. */
	async recordJobUpdates(updates: readonly JobUpdate[]): Promise<void> {
		if (updates.length === 0) return;
		await updateJobsWithEvents(this.db, updates);
		for (const id of new Set(updates.flatMap((u) => u.events.map((e) => e.workflow_id)))) this.notify(id);
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
