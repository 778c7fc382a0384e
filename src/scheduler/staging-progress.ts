import { type Clock, isoNow } from "../common/index.js";
import { type Db, type NewEvent, updateWorkflow, type WorkflowRow } from "../db/index.js";
import { computeProgress } from "./progress.js";

/** How far a staging phase is, as the status API shows it (`progress.staging`). */
export interface StagingProgress {
	direction: "in" | "out";
	files_total: number;
	files_done: number;
	files_skipped: number;
	bytes_total: number;
	bytes_done: number;
}

/** What a staging phase reports through: the database, events and live listeners. */
export interface StagingReporter {
	db: Db;
	clock: Clock;
	record(events: NewEvent[]): Promise<void>;
	notify(workflowId: string): void;
}

/** Counts a phase's files and bytes and writes them to the run's status, at most every `intervalMs`. */
export class StagingMeter {
	readonly progress: StagingProgress;
	private lastWrite = 0;
	private lastEvent = 0;

	constructor(
		private readonly reporter: StagingReporter,
		private readonly wf: WorkflowRow,
		direction: "in" | "out",
		private readonly intervalMs = 1000,
	) {
		this.progress = { direction, files_total: 0, files_done: 0, files_skipped: 0, bytes_total: 0, bytes_done: 0 };
	}

	/** The status message for the current state. */
	message(): string {
		const p = this.progress;
		const verb = p.direction === "in" ? "staging inputs" : "publishing outputs";
		return `${verb}: ${p.files_done} of ${p.files_total} files, ${mib(p.bytes_done)} of ${mib(p.bytes_total)}`;
	}

	/** Writes the status now or when the interval has passed; a progress event every 30 s. */
	async write(force = false): Promise<void> {
		const now = Date.now();
		if (!force && now - this.lastWrite < this.intervalMs) return;
		this.lastWrite = now;
		const base = this.wf.progress ? JSON.parse(this.wf.progress) : computeProgress([]);
		const progress = JSON.stringify({ ...base, staging: this.progress });
		await updateWorkflow(this.reporter.db, this.wf.id, {
			status_message: this.message(),
			progress,
			updated_at: isoNow(this.reporter.clock),
		});
		if (now - this.lastEvent > 30_000 && this.progress.files_total > 0) {
			if (this.lastEvent > 0) await this.event(`staging_progress`, this.message());
			this.lastEvent = now;
		}
		this.reporter.notify(this.wf.id);
	}

	/** Records an event of this run. */
	async event(type: string, message: string, level: NewEvent["level"] = "info"): Promise<void> {
		await this.reporter.record([
			{ workflow_id: this.wf.id, job_id: null, at: isoNow(this.reporter.clock), level, type, message },
		]);
	}
}

/** Bytes in MiB with one decimal, for messages. */
export function mib(bytes: number): string {
	return `${(bytes / 1024 ** 2).toFixed(1)} MiB`;
}
