import { execFile } from "node:child_process";
import { copyFile, link, readdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { AppError } from "../../common/index.js";
import { lastLine } from "../command-runner.js";
import type { BackendJob } from "../compute-backend.js";
import { jobFiles } from "../job-folder.js";
import { transferFiles, transferWrapperScript } from "./transfer-wrapper.js";

const run = promisify(execFile);

/** Orrery's own folder in a workspace (job folders, secrets of running jobs): it never travels. */
export const internalFolder = ".orrery";

/** What a job folder records for file transfer, read back when the job's outputs return. */
export interface TransferRecord {
	workspace: string;
}

/**
 * Turns a job folder prepared by `writeJobScripts` into one for file transfer: run.sh becomes the
 * scratch-directory wrapper (with command.sh relocated into it) and the workspace is recorded.
 */
export async function prepareTransferJob(job: BackendJob): Promise<void> {
	const commandText = await readFile(join(job.jobDir, jobFiles.command), "utf8");
	const wrapper = transferWrapperScript({
		workspace: job.workspace,
		jobDir: job.jobDir,
		workdir: job.workdir,
		commandText,
		hasSecrets: job.secrets !== undefined,
	});
	await writeFile(join(job.jobDir, jobFiles.wrapper), wrapper, { mode: 0o755 });
	const record: TransferRecord = { workspace: job.workspace };
	await writeFile(join(job.jobDir, transferFiles.record), `${JSON.stringify(record)}\n`);
}

/** Reads what `prepareTransferJob` recorded (undefined for a job folder of the shared mode). */
export async function readTransferRecord(jobDir: string): Promise<TransferRecord | undefined> {
	const text = await readFile(join(jobDir, transferFiles.record), "utf8").catch(() => "");
	if (!text) return undefined;
	const parsed = JSON.parse(text) as Partial<TransferRecord>;
	return typeof parsed.workspace === "string" ? { workspace: parsed.workspace } : undefined;
}

/**
 * Gives each job its workspace as a tar in its job folder. Jobs of one submission that share a
 * workspace share one snapshot: it is packed once and hard-linked (copied across filesystems).
 */
export async function snapshotWorkspaces(jobs: readonly BackendJob[]): Promise<void> {
	const byWorkspace = new Map<string, BackendJob[]>();
	for (const job of jobs) byWorkspace.set(job.workspace, [...(byWorkspace.get(job.workspace) ?? []), job]);
	for (const [workspace, group] of byWorkspace) {
		const first = join((group[0] as BackendJob).jobDir, transferFiles.workspaceIn);
		await packWorkspace(workspace, first);
		for (const job of group.slice(1)) {
			const target = join(job.jobDir, transferFiles.workspaceIn);
			await rm(target, { force: true });
			await link(first, target).catch(() => copyFile(first, target));
		}
	}
}

/**
 * Packs a workspace, without `.orrery/`, into a tar (written aside and renamed, so a tar that
 * exists is whole). A workspace with nothing else gives an empty file, which the wrapper skips.
 */
export async function packWorkspace(workspace: string, tarPath: string): Promise<void> {
	const names = (await readdir(workspace)).filter((n) => n !== internalFolder).sort();
	const partial = `${tarPath}.partial`;
	if (names.length === 0) {
		await writeFile(partial, "");
	} else {
		try {
			// `./name` keeps names that start with "-" from reading as options.
			await run("tar", ["-cf", partial, "-C", workspace, ...names.map((n) => `./${n}`)], {
				maxBuffer: 16 * 1024 * 1024,
			});
		} catch (error) {
			const failure = error as { code?: number | string; stderr?: string };
			// GNU tar exits 1 when a file changed while it was read (a parallel step writing): the tar is whole.
			if (failure.code !== 1) {
				await rm(partial, { force: true });
				throw new AppError(
					"validation_failed",
					`htcondor file transfer: cannot pack the workspace ${workspace}: ${lastLine(failure.stderr ?? String(error))}`,
					{ cause: error },
				);
			}
		}
	}
	await rename(partial, tarPath);
}
