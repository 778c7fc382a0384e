import { stat } from "node:fs/promises";
import { join } from "node:path";
import { BatchV1Api, CoreV1Api, KubeConfig, type V1Job, type V1Pod } from "@kubernetes/client-node";
import { AppError, messageOf } from "../../common/index.js";
import type {
	BackendCapabilities,
	BackendJob,
	ComputeBackend,
	JobIdentity,
	JobObservation,
	Submission,
} from "../compute-backend.js";
import { jobFiles, readJobFolder, writeJobScripts } from "../job-folder.js";
import { jobManifest, kubernetesJobName, orrerySelector } from "./job-manifest.js";
import { isStuck, observeKubernetesJob } from "./kube-states.js";
import type { KubernetesConfig } from "./kubernetes-config.js";

/**
 * Runs each job as a Kubernetes Job through @kubernetes/client-node. Two list calls by label
 * selector (Jobs and their pods) observe every job; cancel deletes the Job with its pods.
 */
export class KubernetesBackend implements ComputeBackend {
	readonly name = "kubernetes";
	readonly capabilities: BackendCapabilities;
	/** API requests made so far. */
	requestsIssued = 0;
	private readonly batch: BatchV1Api;
	private readonly core: CoreV1Api;

	constructor(
		private readonly config: KubernetesConfig,
		kubeConfig: KubeConfig,
	) {
		this.batch = kubeConfig.makeApiClient(BatchV1Api);
		this.core = kubeConfig.makeApiClient(CoreV1Api);
		this.capabilities = {
			sharedFilesystem: true,
			notifiesChanges: false,
			pollIntervalMs: config.pollIntervalMs,
			maxActiveJobs: config.maxActiveJobs,
			containerRuntime: "kubernetes",
			enforcesTimeLimit: true,
			jobFolderRoot: config.workspaceMountPath.replace(/\/+$/, "") || "/",
		};
	}

	/** Creates the backend from a kubeconfig file, the in-cluster service account, or ~/.kube/config. */
	static async create(config: KubernetesConfig): Promise<KubernetesBackend> {
		const kc = new KubeConfig();
		try {
			if (config.kubeconfig) kc.loadFromFile(config.kubeconfig);
			else kc.loadFromDefault();
			if (config.context) kc.setCurrentContext(config.context);
		} catch (error) {
			throw new AppError("validation_failed", `kubernetes: cannot load the kubeconfig: ${messageOf(error)}`, {
				cause: error,
			});
		}
		if (!kc.getCurrentCluster()) {
			throw new AppError(
				"validation_failed",
				"kubernetes: no cluster in the kubeconfig (set `kubeconfig` or run in a pod)",
			);
		}
		return new KubernetesBackend(config, kc);
	}

	async submit(job: BackendJob): Promise<Submission> {
		const body = jobManifest(job, this.config);
		const name = body.metadata?.name as string;
		// A second submission of the same job keeps the scripts it finds (the pod may be running them).
		await writeJobScripts(job.jobDir, job.command, job.env, {
			workdir: job.workdir,
			...(job.secrets ? { secrets: job.secrets } : {}),
		});
		try {
			await this.call(() => this.batch.createNamespacedJob({ namespace: this.config.namespace, body }));
		} catch (error) {
			if (statusOf(error) !== 409) throw error; // 409: this job's Job exists already (submitted before a crash)
		}
		const s: Submission = { ref: `${name}@${job.jobDir}` };
		if (job.image !== undefined) s.imageUsed = true;
		return s;
	}

	async poll(refs: readonly string[]): Promise<Map<string, JobObservation>> {
		const out = new Map<string, JobObservation>();
		const wanted = refs.flatMap((ref) => {
			const at = ref.indexOf("@/");
			return at > 0 ? [{ ref, name: ref.slice(0, at), jobDir: ref.slice(at + 1) }] : [];
		});
		if (wanted.length === 0) return out;
		const selector = orrerySelector(this.config);
		const [jobs, pods] = await Promise.all([
			this.call(() => this.batch.listNamespacedJob({ namespace: this.config.namespace, labelSelector: selector })),
			this.call(() => this.core.listNamespacedPod({ namespace: this.config.namespace, labelSelector: selector })),
		]);
		const jobByName = new Map(jobs.items.map((j: V1Job) => [j.metadata?.name ?? "", j]));
		const podByJob = new Map<string, V1Pod>();
		for (const p of pods.items) {
			const owner = p.metadata?.labels?.["batch.kubernetes.io/job-name"] ?? p.metadata?.labels?.["job-name"];
			if (owner) podByJob.set(owner, p);
		}
		const stuck: string[] = [];
		await Promise.all(
			wanted.map(async (w) => {
				const pod = podByJob.get(w.name);
				const obs = observeKubernetesJob(jobByName.get(w.name), pod, await readJobFolder(w.jobDir));
				out.set(
					w.ref,
					obs ?? { state: "lost", reason: "Kubernetes no longer has the Job and its command recorded no exit code" },
				);
				if (isStuck(pod) && obs?.state === "exited") stuck.push(w.name);
			}),
		);
		for (const name of stuck) await this.delete(name);
		return out;
	}

	/**
	 * A Job created without its ref being recorded is named after the job id. The scripts are written
	 * before the Job is created: a folder without run.sh was never submitted.
	 */
	async find(job: JobIdentity): Promise<string | undefined> {
		if (!(await stat(join(job.jobDir, jobFiles.wrapper)).catch(() => undefined))) return undefined;
		return `${kubernetesJobName(job.id)}@${job.jobDir}`;
	}

	async cancel(ref: string): Promise<void> {
		const at = ref.indexOf("@/");
		await this.delete(at > 0 ? ref.slice(0, at) : kubernetesJobName(ref));
	}

	private async delete(name: string): Promise<void> {
		try {
			await this.call(() =>
				this.batch.deleteNamespacedJob({ name, namespace: this.config.namespace, propagationPolicy: "Background" }),
			);
		} catch (error) {
			if (statusOf(error) !== 404) throw error;
		}
	}

	private async call<T>(request: () => Promise<T>): Promise<T> {
		this.requestsIssued++;
		try {
			return await request();
		} catch (error) {
			const status = statusOf(error);
			if (status === 409 || status === 404) throw error;
			const body = (error as { body?: unknown }).body;
			const detail = typeof body === "string" ? body.slice(0, 300) : messageOf(error);
			const code = status === 400 || status === 422 || status === 403 ? "validation_failed" : "backend_unavailable";
			throw new AppError(code, `Kubernetes API${status ? ` (HTTP ${status})` : ""}: ${detail}`, { cause: error });
		}
	}

	async close(): Promise<void> {}
}

function statusOf(error: unknown): number | undefined {
	const code = (error as { code?: unknown }).code;
	return typeof code === "number" ? code : undefined;
}
