import type { JobObservation } from "../compute-backend.js";
import { type JobFolderState, lockLostExitCode } from "../job-folder.js";

/** One job (or array task) as squeue, sacct or slurmrestd describe it. */
export interface SlurmRecord {
	/** `123`, or `123_4` for an array task. */
	id: string;
	/** The base state (`CANCELLED by 0` becomes `CANCELLED`). */
	state: string;
	reason?: string;
	/** The batch script's exit status, when Slurm knows it. */
	exitCode?: number;
	/** The signal that ended the batch script, when one did. */
	signal?: number;
	startedAt?: Date;
	finishedAt?: Date;
}

const pending = new Set(["PENDING", "REQUEUED", "REQUEUE_FED", "REQUEUE_HOLD", "RESV_DEL_HOLD", "SPECIAL_EXIT"]);
const running = new Set([
	"RUNNING",
	"CONFIGURING",
	"COMPLETING",
	"SUSPENDED",
	"STOPPED",
	"SIGNALING",
	"STAGE_OUT",
	"RESIZING",
]);

/** Infrastructure failures: not the command's fault, so the scheduler may retry them (`retries`). */
const lostMessages: Record<string, string> = {
	NODE_FAIL: "the node running the job failed (Slurm NODE_FAIL)",
	PREEMPTED: "Slurm preempted the job for a higher-priority one (PREEMPTED)",
	BOOT_FAIL: "the node allocated to the job failed to boot (Slurm BOOT_FAIL)",
	REVOKED: "Slurm revoked the job (federation sibling took it)",
};

/** Whether Slurm still has the job waiting or running. */
export function isActiveSlurmState(state: string): boolean {
	return pending.has(state) || running.has(state);
}

/** Slurm's `code:signal` exit field as numbers. */
export function parseExitField(field: string | undefined): { exitCode?: number; signal?: number } {
	const m = /^(\d+):(\d+)$/.exec(field?.trim() ?? "");
	if (!m) return {};
	return { exitCode: Number(m[1]), signal: Number(m[2]) };
}

/** The first word of a state (`CANCELLED by 1000` → `CANCELLED`). */
export function baseState(state: string): string {
	return (state.trim().split(/\s+/)[0] ?? "").replace(/\+$/, "").toUpperCase();
}

/** Context for messages: what the job asked for. */
export interface RequestFacts {
	time?: string;
	memoryMiB?: number;
}

/**
 * Combines what Slurm says with what the job folder says. The folder's exit code is the command's
 * own; Slurm's state explains why a job ended early. Active jobs whose folder already holds an exit
 * code count as exited, so results arrive without waiting for Slurm's epilog.
 */
export function observeSlurmJob(
	record: SlurmRecord | undefined,
	folder: JobFolderState,
	facts: RequestFacts = {},
): JobObservation | undefined {
	const times = timesOf(record, folder);
	if (record && pending.has(record.state) && folder.exitCode === undefined) return { state: "queued" };
	if (record && running.has(record.state)) {
		// A command killed by a signal (exit >= 128) may be Slurm's doing (time limit, memory):
		// wait for Slurm's final state, which says why, instead of taking the folder's code at once.
		if (folder.exitCode !== undefined && folder.exitCode < 128) {
			return { state: "exited", exitCode: folder.exitCode, ...times };
		}
		return record.startedAt ? { state: "running", startedAt: record.startedAt } : { state: "running" };
	}
	if (!record) {
		// The queue has forgotten the job. A code from a signal (>= 128) may be Slurm's doing (a cancel,
		// a time limit): accounting says why; the command's own codes need no explanation.
		if (folder.exitCode !== undefined && folder.exitCode < 128) {
			return { state: "exited", exitCode: folder.exitCode, ...times };
		}
		return undefined; // ask accounting
	}
	const lost = lostMessages[record.state];
	if (lost && folder.exitCode === undefined) return { state: "lost", reason: lost };
	// A second copy of the job that found the lock taken: its end is not the job's (the backend
	// follows the copy holding the lock, see `SlurmBackend.poll`).
	if (folder.exitCode === undefined && !record.signal && record.exitCode === lockLostExitCode)
		return { state: "lost", reason: lockLostReason };
	const slurmCode = record.signal ? 128 + record.signal : record.exitCode;
	const code = folder.exitCode ?? slurmCode;
	switch (record.state) {
		case "COMPLETED":
			return { state: "exited", exitCode: code ?? 0, ...times };
		case "FAILED":
			if (folder.exitCode !== undefined) return { state: "exited", exitCode: folder.exitCode, ...times };
			return {
				state: "exited",
				exitCode: nonZero(slurmCode, 1),
				...times,
				reason: `the job failed before its command ran (Slurm reason: ${record.reason ?? "unknown"}); see ${"slurm.out"} in the job folder`,
			};
		case "TIMEOUT":
			return {
				state: "exited",
				exitCode: nonZero(code, 143),
				...times,
				reason: `Slurm stopped the job at its time limit${facts.time ? ` (${facts.time})` : ""} (TIMEOUT); raise slurm_time`,
			};
		case "OUT_OF_MEMORY":
			return {
				state: "exited",
				exitCode: nonZero(code, 137),
				...times,
				reason: `out of memory: the job used more than the ${facts.memoryMiB !== undefined ? `${facts.memoryMiB} MiB` : "memory"} it requested and Slurm killed it (OUT_OF_MEMORY); raise the step's memory`,
			};
		case "CANCELLED":
			return {
				state: "exited",
				exitCode: nonZero(code, 143),
				...times,
				reason: "the job was cancelled on Slurm outside Orrery (CANCELLED)",
			};
		case "DEADLINE":
			return {
				state: "exited",
				exitCode: nonZero(code, 143),
				...times,
				reason: "Slurm ended the job at its deadline (DEADLINE)",
			};
		default:
			if (lost) return { state: "exited", exitCode: code ?? 1, ...times };
			return {
				state: "exited",
				exitCode: nonZero(code, 1),
				...times,
				reason: `Slurm reports the job as ${record.state}`,
			};
	}
}

/** Why a job whose Slurm job found the wrapper's lock taken is lost when no copy holding it is known. */
export const lockLostReason =
	"a second copy of the job found it started by another and ended, and no copy that ran it recorded an exit code";

/** What to say about a job neither Slurm nor its folder can account for. */
export function vanishedObservation(folder: JobFolderState): JobObservation {
	if (folder.exitCode !== undefined)
		return { state: "exited", exitCode: folder.exitCode, ...timesOf(undefined, folder) };
	return {
		state: "lost",
		reason: folder.hasStarted
			? "Slurm no longer knows the job and its command recorded no exit code (killed with its node, or purged)"
			: "Slurm no longer knows the job and it never started",
	};
}

function nonZero(code: number | undefined, fallback: number): number {
	return code === undefined || code === 0 ? fallback : code;
}

function timesOf(record: SlurmRecord | undefined, folder: JobFolderState): { startedAt?: Date; finishedAt?: Date } {
	const out: { startedAt?: Date; finishedAt?: Date } = {};
	const started = folder.startedAt ?? record?.startedAt;
	const finished = folder.finishedAt ?? record?.finishedAt;
	if (started) out.startedAt = started;
	if (finished) out.finishedAt = finished;
	return out;
}
