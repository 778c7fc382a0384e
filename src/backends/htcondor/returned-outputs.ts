import { execFile } from "node:child_process";
import { lstat, mkdir, readdir, readFile, readlink, rename, rm, stat, symlink, unlink } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { AppError } from "../../common/index.js";
import { lastLine } from "../command-runner.js";
import { jobFiles } from "../job-folder.js";
import { transferFiles } from "./transfer-wrapper.js";
import { internalFolder, readTransferRecord } from "./workspace-snapshot.js";

const run = promisify(execFile);

/**
 * Moves the outputs HTCondor sent back for a job into its workspace, and only then publishes the
 * job's exit code (`returned-exit-code` renamed to `exit-code`), so whoever sees the exit code
 * also sees the outputs. Each file appears with one rename: no reader sees half of it. Safe to
 * repeat after a crash at any point: the tar stays until everything is moved, and moving the same
 * files again changes nothing. Answers whether the job now has a published exit code.
 */
export async function publishReturnedOutputs(jobDir: string): Promise<boolean> {
	if (await exists(join(jobDir, jobFiles.exitCode))) return true;
	const returned = join(jobDir, transferFiles.returnedExitCode);
	const code = (await readFile(returned, "utf8").catch(() => "")).trim();
	// No code: the wrapper never finished (HTCondor's own exit status tells what happened).
	if (!/^\d+$/.test(code)) return false;
	const record = await readTransferRecord(jobDir);
	if (!record) throw new AppError("internal", `htcondor file transfer: ${jobDir} has no ${transferFiles.record}`);
	const tar = join(jobDir, transferFiles.workspaceOut);
	const unpacked = join(jobDir, transferFiles.unpacked);
	if (((await stat(tar).catch(() => undefined))?.size ?? 0) > 0) {
		await rm(unpacked, { recursive: true, force: true });
		await mkdir(unpacked);
		await unpack(tar, unpacked);
		const scratch = (await readFile(join(jobDir, transferFiles.scratchPath), "utf8").catch(() => "")).trim();
		await moveInto(unpacked, record.workspace, { from: scratch, to: record.workspace }, true);
	}
	await rm(unpacked, { recursive: true, force: true });
	await rm(tar, { force: true });
	await dropSnapshot(jobDir);
	await rename(returned, join(jobDir, jobFiles.exitCode));
	return true;
}

/** Deletes a job's workspace snapshot (it is only needed until the job has started). */
export async function dropSnapshot(jobDir: string): Promise<void> {
	await rm(join(jobDir, transferFiles.workspaceIn), { force: true });
}

// GNU tar refuses members with "..", strips leading "/", and makes symbolic links that point
// outside last, so nothing lands outside the (empty) folder; it also drops owners and set-id bits.
async function unpack(tar: string, into: string): Promise<void> {
	try {
		await run("tar", ["-xf", tar, "-C", into, "--no-same-owner", "--no-same-permissions"], {
			maxBuffer: 16 * 1024 * 1024,
		});
	} catch (error) {
		const stderr = (error as { stderr?: string }).stderr ?? String(error);
		throw new AppError("backend_unavailable", `cannot unpack ${transferFiles.workspaceOut}: ${lastLine(stderr)}`, {
			cause: error,
		});
	}
}

/**
 * Moves a tree into the workspace file by file. It descends only into directories that are real
 * directories on both sides (lstat: never through a symbolic link), replaces what stands in the
 * way, and skips `.orrery/` at the top. Links into the execute node's scratch workspace are
 * retargeted to the same place in the real workspace.
 */
async function moveInto(
	from: string,
	to: string,
	retarget: { from: string; to: string },
	isTop: boolean,
): Promise<void> {
	for (const entry of await readdir(from, { withFileTypes: true })) {
		if (isTop && entry.name === internalFolder) continue;
		const source = join(from, entry.name);
		const target = join(to, entry.name);
		const existing = await lstat(target).catch(() => undefined);
		if (entry.isDirectory()) {
			if (existing && !existing.isDirectory()) await rm(target, { force: true });
			if (!existing?.isDirectory()) await mkdir(target, { mode: (await stat(source)).mode & 0o777 });
			await moveInto(source, target, retarget, false);
			continue;
		}
		if (entry.isSymbolicLink() && retarget.from) {
			const pointsAt = await readlink(source);
			if (pointsAt === retarget.from || pointsAt.startsWith(`${retarget.from}/`)) {
				await unlink(source);
				await symlink(retarget.to + pointsAt.slice(retarget.from.length), source);
			}
		}
		if (existing?.isDirectory()) await rm(target, { recursive: true, force: true });
		await rename(source, target);
	}
}

async function exists(path: string): Promise<boolean> {
	return (await lstat(path).catch(() => undefined)) !== undefined;
}
