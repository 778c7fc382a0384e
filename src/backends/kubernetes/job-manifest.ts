import { join } from "node:path";
import type { V1Job, V1ResourceRequirements, V1Volume } from "@kubernetes/client-node";
import { AppError } from "../../common/index.js";
import type { BackendJob } from "../compute-backend.js";
import { jobFiles } from "../job-folder.js";
import type { KubernetesConfig } from "./kubernetes-config.js";

/** Labels every Orrery Job and pod carries: how one list call finds them all, and only them. */
export const orreryLabels = {
	managedBy: "app.kubernetes.io/managed-by",
	instance: "orrery.io/instance",
	jobId: "orrery.io/job-id",
} as const;

/** The label selector of one Orrery server's Jobs and pods. */
export function orrerySelector(config: Pick<KubernetesConfig, "instance">): string {
	return `${orreryLabels.managedBy}=orrery,${orreryLabels.instance}=${config.instance}`;
}

/** The Kubernetes Job name of an Orrery job (a DNS label: lower case, at most 63 characters). */
export function kubernetesJobName(jobId: string): string {
	const safe = jobId
		.toLowerCase()
		.replace(/[^a-z0-9-]+/g, "-")
		.replace(/^-+|-+$/g, "");
	return `orrery-${safe}`.slice(0, 63).replace(/-+$/, "");
}

/**
 * The Job for one Orrery job: one pod, never restarted (backoffLimit 0: Orrery owns retries), the
 * workspace volume mounted at the server's workspace root so every path in the job folder holds,
 * the step's image running the job-folder wrapper, and REANA's kubernetes_* keys applied.
 */
export function jobManifest(job: BackendJob, config: KubernetesConfig): V1Job {
	const name = kubernetesJobName(job.id);
	const labels = {
		...config.labels,
		[orreryLabels.managedBy]: "orrery",
		[orreryLabels.instance]: config.instance,
		[orreryLabels.jobId]: name.slice("orrery-".length),
	};
	if (!job.jobDir.startsWith(`${config.workspaceMountPath.replace(/\/+$/, "")}/`)) {
		throw new AppError(
			"validation_failed",
			`kubernetes: the job folder ${job.jobDir} is outside workspaceMountPath ${config.workspaceMountPath}; set it to ORRERY_WORKSPACE_ROOT`,
		);
	}
	const uid = integerOption(job.options, "kubernetes_uid") ?? config.runAsUser;
	const timeout = job.resources.timeLimitSeconds;
	const volume: V1Volume =
		"persistentVolumeClaim" in config.workspaceVolume
			? {
					name: "workspace",
					persistentVolumeClaim: { claimName: config.workspaceVolume.persistentVolumeClaim.claimName },
				}
			: { name: "workspace", hostPath: { path: config.workspaceVolume.hostPath.path, type: "Directory" } };
	return {
		apiVersion: "batch/v1",
		kind: "Job",
		metadata: { name, namespace: config.namespace, labels },
		spec: {
			backoffLimit: 0,
			...(timeout !== undefined ? { activeDeadlineSeconds: Math.max(1, Math.ceil(timeout)) } : {}),
			ttlSecondsAfterFinished: config.ttlSecondsAfterFinished,
			template: {
				metadata: { labels },
				spec: {
					restartPolicy: "Never",
					...(uid !== undefined || config.runAsGroup !== undefined
						? {
								securityContext: {
									...(uid !== undefined ? { runAsUser: uid } : {}),
									...(config.runAsGroup !== undefined ? { runAsGroup: config.runAsGroup } : {}),
								},
							}
						: {}),
					...(config.serviceAccountName ? { serviceAccountName: config.serviceAccountName } : {}),
					...(config.imagePullSecrets?.length
						? { imagePullSecrets: config.imagePullSecrets.map((n) => ({ name: n })) }
						: {}),
					...(config.nodeSelector ? { nodeSelector: config.nodeSelector } : {}),
					containers: [
						{
							name: "job",
							image: job.image ?? config.defaultImage,
							command: ["/bin/sh", join(job.jobDir, jobFiles.wrapper)],
							workingDir: job.workdir,
							resources: resources(job, config),
							volumeMounts: [
								{
									name: "workspace",
									mountPath: config.workspaceMountPath,
									...(config.workspaceSubPath ? { subPath: config.workspaceSubPath } : {}),
								},
							],
						},
					],
					volumes: [volume],
				},
			},
		},
	};
}

/** Requests and limits: REANA's kubernetes_* strings as written, else the step's generic resources. */
function resources(job: BackendJob, config: KubernetesConfig): V1ResourceRequirements {
	const requests: Record<string, string> = {};
	const limits: Record<string, string> = {};
	const cpuRequest = quantityOption(job.options, "kubernetes_cpu_request");
	const cpuLimit = quantityOption(job.options, "kubernetes_cpu_limit");
	const memoryLimit = quantityOption(job.options, "kubernetes_memory_limit");
	const { cpus, memoryMiB, gpus } = job.resources;
	if (cpuRequest) requests.cpu = cpuRequest;
	else if (cpus !== undefined) requests.cpu = String(cpus);
	if (cpuLimit) limits.cpu = cpuLimit;
	if (memoryLimit) {
		limits.memory = memoryLimit;
		requests.memory = memoryLimit;
	} else if (memoryMiB !== undefined) {
		limits.memory = `${memoryMiB}Mi`;
		requests.memory = `${memoryMiB}Mi`;
	}
	if (gpus !== undefined && gpus > 0) limits[config.gpuResource] = String(gpus);
	const out: V1ResourceRequirements = {};
	if (Object.keys(requests).length > 0) out.requests = requests;
	if (Object.keys(limits).length > 0) out.limits = limits;
	return out;
}

const quantity = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+|[KMGTPE]i?|[mkMGTPE])?$/;

function quantityOption(options: Record<string, unknown>, key: string): string | undefined {
	const v = options[key];
	if (v === undefined || v === null || v === "") return undefined;
	const s = String(v).trim();
	if (!quantity.test(s))
		throw new AppError("validation_failed", `${key} '${s}' is not a Kubernetes quantity (e.g. 500m, 2, 4Gi)`);
	return s;
}

function integerOption(options: Record<string, unknown>, key: string): number | undefined {
	const v = options[key];
	if (v === undefined || v === null || v === "") return undefined;
	const n = Number(v);
	if (!Number.isInteger(n) || n < 0)
		throw new AppError("validation_failed", `${key} must be a whole number, not '${String(v)}'`);
	return n;
}
