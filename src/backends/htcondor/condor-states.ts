import type { JobObservation } from "../compute-backend.js";
import { type JobFolderState, lockLostExitCode } from "../job-folder.js";

/** The job ClassAd attributes the backend reads (condor_q -json / condor_history -json). */
export const condorAttributes = [
	"ClusterId",
	"ProcId",
	"JobStatus",
	"ExitCode",
	"ExitBySignal",
	"ExitSignal",
	"HoldReason",
	"HoldReasonCode",
	"RemoveReason",
	"JobCurrentStartDate",
	"CompletionDate",
	"EnteredCurrentStatus",
	"NumJobStarts",
	"OrreryJobId",
] as const;

/** One job ClassAd as JSON (attributes the backend does not read are ignored). */
export interface CondorAd {
	ClusterId: number;
	ProcId: number;
	JobStatus: number;
	ExitCode?: number;
	ExitBySignal?: boolean;
	ExitSignal?: number;
	HoldReason?: string;
	HoldReasonCode?: number;
	RemoveReason?: string;
	JobCurrentStartDate?: number;
	CompletionDate?: number;
	EnteredCurrentStatus?: number;
	NumJobStarts?: number;
	OrreryJobId?: string;
}

/** Parses `condor_q -json` / `condor_history -json` output (an array of ads; nothing at all when empty). */
export function parseCondorJson(text: string): CondorAd[] {
	const trimmed = text.trim();
	if (!trimmed) return [];
	const parsed = JSON.parse(trimmed) as unknown;
	if (!Array.isArray(parsed)) return [];
	return parsed.filter(
		(ad): ad is CondorAd =>
			typeof ad === "object" && ad !== null && typeof ad.ClusterId === "number" && typeof ad.ProcId === "number",
	);
}

/** `cluster.proc` of an ad. */
export function condorId(ad: Pick<CondorAd, "ClusterId" | "ProcId">): string {
	return `${ad.ClusterId}.${ad.ProcId}`;
}

// Hold reasons that are the infrastructure's fault (file transfer, starter, sandbox): retryable.
const infrastructureHold =
	/transfer (input|output)|error from starter|failed to (create|initialize)|starter|sandbox|cvmfs|node/i;
const memoryHold = /memory|oom/i;
const runtimeHold = /maxruntime|max_runtime|runtime|wall ?(clock|time)|time limit/i;

/** Whether HTCondor holds the job: the backend removes held jobs once it has reported them. */
export function isHeld(ad: CondorAd): boolean {
	return ad.JobStatus === 5;
}

/**
 * Combines a job's ClassAd with its job folder. JobStatus: 1 idle, 2 running, 3 removed,
 * 4 completed, 5 held, 6 transferring output, 7 suspended. The folder's exit code is the
 * command's own; HTCondor's hold and remove reasons explain jobs that ended early.
 */
export function observeCondorJob(ad: CondorAd | undefined, folder: JobFolderState): JobObservation | undefined {
	const times: { startedAt?: Date; finishedAt?: Date } = {};
	const started = folder.startedAt ?? epoch(ad?.JobCurrentStartDate);
	const finished = folder.finishedAt ?? epoch(ad?.CompletionDate);
	if (started) times.startedAt = started;
	if (finished) times.finishedAt = finished;
	if (!ad) return folder.exitCode !== undefined ? { state: "exited", exitCode: folder.exitCode, ...times } : undefined;
	switch (ad.JobStatus) {
		case 1:
			return folder.exitCode !== undefined
				? { state: "exited", exitCode: folder.exitCode, ...times }
				: { state: "queued" };
		case 2:
		case 6:
		case 7:
			if (folder.exitCode !== undefined) return { state: "exited", exitCode: folder.exitCode, ...times };
			return times.startedAt ? { state: "running", startedAt: times.startedAt } : { state: "running" };
		case 4: {
			// A second copy of the job that found the lock taken: its end is not the job's (the backend
			// follows the copy holding the lock, see `HtcondorBackend.poll`).
			if (folder.exitCode === undefined && !ad.ExitBySignal && ad.ExitCode === lockLostExitCode)
				return {
					state: "lost",
					reason:
						"a second copy of the job found it started by another and ended, and no copy that ran it recorded an exit code",
				};
			const own = ad.ExitBySignal ? 128 + (ad.ExitSignal ?? 0) : ad.ExitCode;
			return { state: "exited", exitCode: folder.exitCode ?? own ?? 1, ...times };
		}
		case 3: {
			const reason = ad.RemoveReason ?? "";
			const code = nonZero(folder.exitCode, 143);
			if (/PeriodicRemove|MaxRuntime/i.test(reason)) {
				return {
					state: "exited",
					exitCode: code,
					...times,
					reason: "HTCondor removed the job at its time limit (+MaxRuntime); raise htcondor_max_runtime",
				};
			}
			return {
				state: "exited",
				exitCode: code,
				...times,
				reason: `the job was removed from HTCondor outside Orrery${reason ? ` (${reason})` : ""}`,
			};
		}
		case 5: {
			if (folder.exitCode !== undefined) return { state: "exited", exitCode: folder.exitCode, ...times };
			const reason = ad.HoldReason ?? "no reason given";
			if (ad.HoldReasonCode === 34 || memoryHold.test(reason)) {
				return {
					state: "exited",
					exitCode: 137,
					...times,
					reason: `out of memory: HTCondor held the job (${reason}); raise the step's memory`,
				};
			}
			if (runtimeHold.test(reason)) {
				return {
					state: "exited",
					exitCode: 143,
					...times,
					reason: `HTCondor stopped the job at its time limit (${reason}); raise htcondor_max_runtime`,
				};
			}
			// 32, 33: the job's files exceed MAX_TRANSFER_INPUT_MB / MAX_TRANSFER_OUTPUT_MB; a retry cannot help.
			if (ad.HoldReasonCode === 32 || ad.HoldReasonCode === 33) {
				return {
					state: "exited",
					exitCode: 1,
					...times,
					reason: `HTCondor would not transfer the job's files (${reason}); the pool limits how much a job may transfer (MAX_TRANSFER_INPUT_MB, MAX_TRANSFER_OUTPUT_MB)`,
				};
			}
			if ([6, 7, 12, 13].includes(ad.HoldReasonCode ?? -1) || infrastructureHold.test(reason)) {
				return { state: "lost", reason: `HTCondor held the job for an infrastructure problem: ${reason}` };
			}
			return { state: "exited", exitCode: 1, ...times, reason: `HTCondor held the job: ${reason}` };
		}
		default:
			return { state: "lost", reason: `HTCondor reports an unknown JobStatus ${ad.JobStatus}` };
	}
}

function nonZero(code: number | undefined, fallback: number): number {
	return code === undefined || code === 0 ? fallback : code;
}

function epoch(seconds: number | undefined): Date | undefined {
	return seconds ? new Date(seconds * 1000) : undefined;
}
