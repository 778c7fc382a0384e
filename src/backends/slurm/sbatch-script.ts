import { join } from "node:path";
import { AppError } from "../../common/index.js";
import type { BackendJob } from "../compute-backend.js";
import { backendJobVariable, containerSecretsPath, jobFiles, shQuote } from "../job-folder.js";
import type { SlurmConfig, SlurmContainerConfig } from "./slurm-config.js";

/** What Slurm is asked for, for one job (or every task of an array). */
export interface SlurmJobSpec {
	name: string;
	partition?: string;
	account?: string;
	qos?: string;
	/** Slurm's time format (`D-HH:MM:SS`, or REANA's slurm_time as written). */
	time?: string;
	/** The limit in whole minutes, for slurmrestd. */
	timeMinutes?: number;
	cpus?: number;
	memoryMiB?: number;
	gpus?: number;
	/** Where Slurm runs the batch script (the job folder) and writes its own messages. */
	chdir: string;
	output: string;
	extraArgs: readonly string[];
}

/** The file Slurm writes its own messages to (time limit, out of memory), inside the job folder. */
export const slurmLogFile = "slurm.out";

/** The Slurm job name of an Orrery job: how a restarted server finds a job submitted just before a crash. */
export function slurmJobName(jobId: string): string {
	return `orrery-${jobId}`;
}

/** The request for one job, from its resources, REANA's slurm_* keys and the backend's settings. */
export function slurmJobSpec(job: BackendJob, config: SlurmConfig, jobDir = job.jobDir): SlurmJobSpec {
	const spec: SlurmJobSpec = {
		name: slurmJobName(job.id),
		chdir: jobDir,
		output: join(jobDir, slurmLogFile),
		extraArgs: config.extraArgs ?? [],
	};
	const partition = stringOption(job.options, "slurm_partition") ?? config.partition;
	if (partition) spec.partition = partition;
	if (config.account) spec.account = config.account;
	if (config.qos) spec.qos = config.qos;
	const slurmTime = stringOption(job.options, "slurm_time");
	const seconds = job.resources.timeLimitSeconds;
	if (slurmTime) spec.time = slurmTime;
	else if (seconds !== undefined) spec.time = formatSlurmTime(seconds);
	if (seconds !== undefined) spec.timeMinutes = Math.max(1, Math.ceil(seconds / 60));
	const { cpus, memoryMiB, gpus } = job.resources;
	if (cpus !== undefined) spec.cpus = cpus;
	if (memoryMiB !== undefined) spec.memoryMiB = memoryMiB;
	if (gpus !== undefined && gpus > 0) spec.gpus = gpus;
	return spec;
}

/** Seconds as Slurm's `D-HH:MM:SS` (Slurm counts whole minutes and rounds up). */
export function formatSlurmTime(seconds: number): string {
	const s = Math.max(1, Math.ceil(seconds));
	const days = Math.floor(s / 86400);
	const hh = String(Math.floor((s % 86400) / 3600)).padStart(2, "0");
	const mm = String(Math.floor((s % 3600) / 60)).padStart(2, "0");
	const ss = String(s % 60).padStart(2, "0");
	return `${days > 0 ? `${days}-` : ""}${hh}:${mm}:${ss}`;
}

/** sbatch's arguments for a spec; the batch script itself comes on stdin. */
export function sbatchArgs(spec: SlurmJobSpec, array?: { indexes: string; output: string }): string[] {
	const args = ["sbatch", "--parsable", `--job-name=${spec.name}`, `--chdir=${spec.chdir}`];
	args.push(`--output=${array?.output ?? spec.output}`, "--open-mode=append", "--no-requeue");
	if (array) args.push(`--array=${array.indexes}`);
	if (spec.partition) args.push(`--partition=${spec.partition}`);
	if (spec.account) args.push(`--account=${spec.account}`);
	if (spec.qos) args.push(`--qos=${spec.qos}`);
	if (spec.time) args.push(`--time=${spec.time}`);
	if (spec.cpus !== undefined) args.push("--ntasks=1", `--cpus-per-task=${spec.cpus}`);
	if (spec.memoryMiB !== undefined) args.push(`--mem=${spec.memoryMiB}M`);
	if (spec.gpus !== undefined) args.push(`--gres=gpu:${spec.gpus}`);
	args.push(...spec.extraArgs);
	return args;
}

/** The key under which jobs may share one array: everything but the name and the folders. */
export function arrayKey(spec: SlurmJobSpec): string {
	const { name: _n, chdir: _c, output: _o, ...rest } = spec;
	return JSON.stringify(rest);
}

/** The batch script of one job: it only starts the job folder's wrapper. */
export function batchScript(jobDir: string): string {
	return `#!/bin/sh\n# Orrery job: the wrapper records stdout, stderr and the exit code in the job folder.\n${backendJobVariable}=$SLURM_JOB_ID exec /bin/sh ${shQuote(join(jobDir, jobFiles.wrapper))}\n`;
}

/** The batch script of an array: task N starts the wrapper of the N-th folder listed in `listFile`. */
export function arrayBatchScript(listFile: string): string {
	return `#!/bin/sh
# Orrery job array: task N runs the job folder on line N of the list.
dir=$(sed -n "\${SLURM_ARRAY_TASK_ID}p" ${shQuote(listFile)})
[ -n "$dir" ] || { echo "orrery: no job folder for array task $SLURM_ARRAY_TASK_ID" >&2; exit 127; }
${backendJobVariable}="\${SLURM_ARRAY_JOB_ID}_\${SLURM_ARRAY_TASK_ID}" exec /bin/sh "$dir/${jobFiles.wrapper}"
`;
}

/** Where a step's image runs: the argv that starts command.sh in it, or why it runs on the host. */
export interface ContainerPlacement {
	launch?: string[];
	imageUsed?: boolean;
	note?: string;
}

/** `apptainer exec` with the workspace bound at the same path, when the site configured a runtime. */
export function containerPlacement(
	job: Pick<BackendJob, "image" | "workspace" | "workdir" | "options" | "resources" | "jobDir" | "secrets">,
	container: SlurmContainerConfig | undefined,
): ContainerPlacement {
	if (job.image === undefined) return {};
	if (!container) {
		return {
			imageUsed: false,
			note: `ran on the host: this Slurm backend has no container runtime configured, image ${job.image} not used`,
		};
	}
	const bin = container.binary ?? container.runtime;
	const launch = [bin, "exec", "--bind", `${job.workspace}:${job.workspace}`];
	for (const b of container.binds ?? []) launch.push("--bind", b);
	// Secrets appear where REANA puts them (the scheduler deletes them when the job ends).
	if (job.secrets) launch.push("--bind", `${join(job.jobDir, jobFiles.secrets)}:${containerSecretsPath}:ro`);
	launch.push("--pwd", job.workdir);
	if ((job.resources.gpus ?? 0) > 0) launch.push("--nv");
	launch.push(...(container.args ?? []), imageReference(job.image, job.options, container), "sh");
	return { launch, imageUsed: true };
}

/** An image name as Apptainer takes it: a path or URI as is, REANA's unpacked_img under the unpacked root, else docker://. */
export function imageReference(
	image: string,
	options: Record<string, unknown>,
	container: SlurmContainerConfig,
): string {
	if (image.startsWith("/") || image.includes("://") || image.endsWith(".sif")) return image;
	if (options.unpacked_img === true) {
		if (!container.unpackedRoot) {
			throw new AppError(
				"validation_failed",
				"the step sets unpacked_img, but this Slurm backend has no container.unpackedRoot configured",
			);
		}
		const [name, tag] = splitTag(image);
		const full = name.includes("/") ? name : `library/${name}`;
		const registry = full.split("/")[0]?.includes(".") ? "" : "registry.hub.docker.com/";
		return join(container.unpackedRoot, `${registry}${full}:${tag}`);
	}
	return `docker://${image}`;
}

function splitTag(image: string): [string, string] {
	const slash = image.lastIndexOf("/");
	const colon = image.lastIndexOf(":");
	if (colon > slash) return [image.slice(0, colon), image.slice(colon + 1)];
	return [image, "latest"];
}

function stringOption(options: Record<string, unknown>, key: string): string | undefined {
	const v = options[key];
	if (v === undefined || v === null || v === "") return undefined;
	if (typeof v === "string") return v;
	if (typeof v === "number") return String(v);
	throw new AppError("validation_failed", `${key} must be a string, not ${JSON.stringify(v)}`);
}
