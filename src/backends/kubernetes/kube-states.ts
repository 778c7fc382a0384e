import type { V1Job, V1Pod } from "@kubernetes/client-node";
import type { JobObservation } from "../compute-backend.js";
import type { JobFolderState } from "../job-folder.js";

// Waiting reasons that will never resolve by themselves: the step's image or settings are wrong.
const stuckWaiting = new Set([
	"ErrImagePull",
	"ImagePullBackOff",
	"InvalidImageName",
	"CreateContainerConfigError",
	"CreateContainerError",
]);

/** Whether the observation means the Job should be deleted now (it will not end by itself). */
export function isStuck(pod: V1Pod | undefined): boolean {
	const waiting = pod?.status?.containerStatuses?.[0]?.state?.waiting?.reason;
	return waiting !== undefined && stuckWaiting.has(waiting);
}

/**
 * Combines a Job, its pod and the job folder. The folder's exit code is the command's own;
 * Job conditions and the pod's container state explain jobs that ended early: DeadlineExceeded
 * (kubernetes_job_timeout), OOMKilled (kubernetes_memory_limit), eviction and preemption (lost,
 * so the scheduler may retry), images that cannot be pulled.
 */
export function observeKubernetesJob(
	job: V1Job | undefined,
	pod: V1Pod | undefined,
	folder: JobFolderState,
): JobObservation | undefined {
	const times: { startedAt?: Date; finishedAt?: Date } = {};
	const started = folder.startedAt ?? date(job?.status?.startTime);
	const finished = folder.finishedAt ?? date(job?.status?.completionTime);
	if (started) times.startedAt = started;
	if (finished) times.finishedAt = finished;
	if (folder.exitCode !== undefined && !isEvicted(pod)) return { state: "exited", exitCode: folder.exitCode, ...times };
	if (!job) return undefined;
	const status = job.status ?? {};
	const failed = status.conditions?.find(
		(c) => (c.type === "Failed" || c.type === "FailureTarget") && c.status === "True",
	);
	const terminated = pod?.status?.containerStatuses?.[0]?.state?.terminated;
	if (isEvicted(pod)) {
		return {
			state: "lost",
			reason: `Kubernetes evicted the pod (${pod?.status?.message ?? pod?.status?.reason ?? "disruption"})`,
		};
	}
	if (failed?.reason === "DeadlineExceeded") {
		return {
			state: "exited",
			exitCode: 143,
			...times,
			reason: `Kubernetes stopped the job at its time limit (activeDeadlineSeconds=${job.spec?.activeDeadlineSeconds ?? "?"}); raise kubernetes_job_timeout`,
		};
	}
	if (terminated?.reason === "OOMKilled") {
		const limit = pod?.spec?.containers?.[0]?.resources?.limits?.memory;
		return {
			state: "exited",
			exitCode: terminated.exitCode || 137,
			...times,
			reason: `out of memory: the container exceeded its memory limit${limit ? ` (${limit})` : ""} and was killed (OOMKilled); raise kubernetes_memory_limit`,
		};
	}
	const complete = status.conditions?.some((c) => c.type === "Complete" && c.status === "True");
	if (!failed && (complete || (status.succeeded ?? 0) > 0)) {
		return { state: "exited", exitCode: terminated?.exitCode ?? 0, ...times };
	}
	if (failed || (status.failed ?? 0) > 0) {
		if (terminated) return { state: "exited", exitCode: terminated.exitCode || 1, ...times };
		return {
			state: "exited",
			exitCode: 1,
			...times,
			reason: `the Kubernetes Job failed (${failed?.reason ?? "Failed"}: ${failed?.message ?? "no message"})`,
		};
	}
	const waiting = pod?.status?.containerStatuses?.[0]?.state?.waiting;
	if (waiting?.reason && stuckWaiting.has(waiting.reason)) {
		const image = pod?.spec?.containers?.[0]?.image ?? "the image";
		return {
			state: "exited",
			exitCode: 125,
			reason: `the container could not start (${waiting.reason}: ${waiting.message ?? image}); check the step's environment image`,
		};
	}
	if ((status.active ?? 0) > 0 && ((status.ready ?? 0) > 0 || pod?.status?.phase === "Running")) {
		return times.startedAt ? { state: "running", startedAt: times.startedAt } : { state: "running" };
	}
	return { state: "queued" };
}

/** Evicted, preempted or disrupted pods: the infrastructure's doing, retryable. */
function isEvicted(pod: V1Pod | undefined): boolean {
	if (!pod?.status) return false;
	if (pod.status.reason === "Evicted" || pod.status.reason === "Preempting") return true;
	return (pod.status.conditions ?? []).some((c) => c.type === "DisruptionTarget" && c.status === "True");
}

function date(value: Date | string | undefined): Date | undefined {
	if (value === undefined) return undefined;
	const d = value instanceof Date ? value : new Date(value);
	return Number.isNaN(d.getTime()) ? undefined : d;
}
