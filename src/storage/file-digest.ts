import { createHash } from "node:crypto";
import { close, closeSync, createReadStream, read, readSync, type Stats } from "node:fs";
import { realpath } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { openUntrustedFile, openUntrustedFileSync, type UntrustedFileRefusal } from "../common/index.js";
import { internalDir, resolveInWorkspace, UnsafePathError } from "./workspace-path.js";
import { isOnLocalDisk } from "./workspace-reader.js";

/** A workspace file as read for its record: its size, modification time and, unless skipped, SHA-256. */
export type WorkspaceFileDigest =
	| { kind: "file"; size: number; modified: Date; sha256?: string; stats: Stats }
	/** Not read: nothing there, a link in its place, no regular file, or a path leading out of the workspace. */
	| { kind: "refused"; reason: UntrustedFileRefusal };

/** Options of `digestWorkspaceFile`. */
export interface DigestOptions {
	/** Whether to hash a file of this size (default: always); a file not hashed still has its size and time. */
	shouldHash?: (size: number) => boolean;
	/** The workspace's real path, when the caller has it (many files of one workspace). */
	realRoot?: string;
	/**
	 * The path is a name a walk of the workspace's real path yielded (`walkFiles`): it is opened as it
	 * is, without resolving it again; the descriptor is still checked to lie in the workspace.
	 */
	isWalked?: boolean;
}

const closeFd = promisify(close);
const closeOf = (isLocal: boolean) => (isLocal ? async (fd: number) => closeSync(fd) : closeFd);
const readAt = promisify(read);
/** Files up to this size are read in one call; larger ones are streamed. */
const oneRead = 1024 * 1024;

/**
 * Reads a workspace file for its record, streaming (never whole in memory): the path is checked as
 * every user path is (no `..`, nothing absolute, no link leading out of the workspace or into Orrery's
 * own folder), and the file is opened once without following a link, its descriptor checked to lie in
 * the workspace; what is measured and hashed is that open file, whatever a job does to the path meanwhile.
 * On a local disk the opening is done at once (microseconds, where the thread pool costs a millisecond
 * per file behind running jobs).
 */
export async function digestWorkspaceFile(
	workspace: string,
	path: string,
	options: DigestOptions = {},
): Promise<WorkspaceFileDigest> {
	const root = options.realRoot ?? (await realpath(workspace));
	let abs: string;
	if (options.isWalked) abs = join(root, path);
	else {
		try {
			abs = await resolveInWorkspace(workspace, path);
		} catch (error) {
			if (error instanceof UnsafePathError) return { kind: "refused", reason: "outside" };
			throw error;
		}
	}
	const where = { within: root, except: join(root, internalDir) };
	const isLocal = isOnLocalDisk(root);
	const opened = isLocal ? openUntrustedFileSync(abs, where) : await openUntrustedFile(abs, where);
	if (!("fd" in opened)) return { kind: "refused", reason: opened.refused };
	const { fd, stats } = opened;
	if (options.shouldHash && !options.shouldHash(stats.size)) {
		await closeOf(isLocal)(fd);
		return { kind: "file", size: stats.size, modified: stats.mtime, stats };
	}
	const hash = createHash("sha256");
	if (stats.size <= oneRead) {
		const buffer = Buffer.alloc(stats.size + 1);
		let filled = 0;
		try {
			for (let n = -1; n !== 0 && filled < buffer.length; filled += n)
				n = isLocal
					? readSync(fd, buffer, filled, buffer.length - filled, filled)
					: (await readAt(fd, buffer, filled, buffer.length - filled, filled)).bytesRead;
		} catch (error) {
			await closeOf(isLocal)(fd);
			throw error;
		}
		// A file that grew past its size meanwhile is streamed instead, from its start.
		if (filled <= stats.size) {
			await closeOf(isLocal)(fd);
			hash.update(buffer.subarray(0, filled));
			return { kind: "file", size: filled, modified: stats.mtime, sha256: hash.digest("hex"), stats };
		}
	}
	// Only the bytes the file had when it was opened: one that keeps growing is not read for ever.
	const stream = createReadStream("", { fd, start: 0, end: Math.max(0, stats.size - 1), highWaterMark: oneRead });
	try {
		for await (const chunk of stream) hash.update(chunk as Buffer);
	} finally {
		stream.destroy();
	}
	return { kind: "file", size: stats.size, modified: stats.mtime, sha256: hash.digest("hex"), stats };
}
