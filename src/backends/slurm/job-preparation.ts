import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { AppError, readRegularFile } from "../../common/index.js";
import type { BackendJob } from "../compute-backend.js";
import { containerSecretsPath, jobFiles, shQuote, wrapperScript, writeJobScripts } from "../job-folder.js";
import { type ContainerPlacement, containerPlacement } from "./sbatch-script.js";
import type { SlurmContainerConfig } from "./slurm-config.js";
import { remapPaths } from "./ssh-staging.js";

/** What the Slurm backend records in a job folder before sbatch, so a restarted server can find the job. */
export interface SubmitRecord {
	/** The Slurm job name (the array's name for array tasks). */
	name: string;
	/** The array task index, for array tasks. */
	index?: number;
	/** The server-side workspace (for staging back). */
	workspace: string;
	time?: string;
	memoryMiB?: number;
}

/** Files the Slurm backend adds to the job-folder protocol. */
export const slurmFiles = {
	/** Written before sbatch: a SubmitRecord (JSON). */
	submit: "slurm-submit.json",
	/** Written after sbatch: the Slurm job id (`123` or `123_4`). */
	id: "slurm-id",
	/** The job folders of an array, one a line, in the array's first job folder. */
	arrayList: "array.list",
} as const;

/** The paths of a job as the cluster sees them (equal to the server's on a shared filesystem). */
export interface ClusterPaths {
	jobDir: string;
	workspace: string;
	workdir: string;
}

/** Maps a job's paths to the cluster side. */
export function clusterPaths(job: BackendJob, toCluster: (p: string) => string): ClusterPaths {
	return { jobDir: toCluster(job.jobDir), workspace: toCluster(job.workspace), workdir: toCluster(job.workdir) };
}

/**
 * Writes command.sh and run.sh for a job that runs with the cluster's paths, in its container
 * when the site runs images, and answers where the image runs.
 */
export async function prepareJobFolder(
	job: BackendJob,
	paths: ClusterPaths,
	container: SlurmContainerConfig | undefined,
): Promise<ContainerPlacement> {
	const isStaged = paths.jobDir !== job.jobDir;
	if (isStaged && job.secrets) {
		throw new AppError(
			"validation_failed",
			"this Slurm backend copies workspaces to the cluster (staging=ssh), which Orrery does not do with secrets; run steps that need secrets on another backend",
		);
	}
	const placement = containerPlacement({ ...job, ...paths }, container);
	if (!isStaged) {
		// Only jobs not yet submitted get here, so their scripts may be rewritten.
		await writeJobScripts(job.jobDir, job.command, job.env, {
			workdir: paths.workdir,
			overwrite: true,
			...(placement.launch ? { launch: placement.launch } : {}),
			...(job.secrets ? { secrets: job.secrets } : {}),
			...(job.secrets && placement.imageUsed ? { secretsPath: containerSecretsPath } : {}),
		});
		return placement;
	}
	const env = remapPaths(job.env, job.workspace, paths.workspace);
	const exports = Object.entries(env)
		.filter(([k]) => /^[A-Za-z_][A-Za-z0-9_]*$/.test(k))
		.map(([k, v]) => `export ${k}=${shQuote(v)}\n`)
		.join("");
	await writeFile(join(job.jobDir, jobFiles.command), `${exports}${job.command}\n`, { mode: 0o644 });
	const wrapper = wrapperScript(paths.jobDir, {
		workdir: paths.workdir,
		...(placement.launch ? { launch: placement.launch } : {}),
	});
	await writeFile(join(job.jobDir, jobFiles.wrapper), wrapper, { mode: 0o755 });
	return placement;
}

/** Reads the submit record of a job folder, if the backend wrote one. */
export async function readSubmitRecord(jobDir: string): Promise<SubmitRecord | undefined> {
	try {
		return JSON.parse((await readRegularFile(join(jobDir, slurmFiles.submit), 64 * 1024))?.text ?? "") as SubmitRecord;
	} catch {
		return undefined;
	}
}

/** Reads the Slurm id recorded after a successful sbatch, if any. */
export async function readSlurmId(jobDir: string): Promise<string | undefined> {
	const text = (await readRegularFile(join(jobDir, slurmFiles.id), 4096))?.text ?? "";
	const id = text.trim();
	return /^\d+(_\d+)?$/.test(id) ? id : undefined;
}

/** Records the submit intent (before sbatch). */
export async function writeSubmitRecord(jobDir: string, record: SubmitRecord): Promise<void> {
	await writeFile(join(jobDir, slurmFiles.submit), `${JSON.stringify(record)}\n`);
}

/** Records the Slurm id (after sbatch). */
export async function writeSlurmId(jobDir: string, id: string): Promise<void> {
	await writeFile(join(jobDir, slurmFiles.id), `${id}\n`);
}

/** A backend ref: the Slurm id and the job folder, so any server instance can observe the job. */
export function slurmRef(id: string, jobDir: string): string {
	return `${id}@${jobDir}`;
}

/** Splits a ref into its Slurm id and job folder. */
export function parseSlurmRef(ref: string): { id: string; base: string; jobDir: string } | undefined {
	const m = /^(\d+)(_\d+)?@(\/.*)$/.exec(ref);
	if (!m) return undefined;
	return { id: `${m[1]}${m[2] ?? ""}`, base: m[1] as string, jobDir: m[3] as string };
}
