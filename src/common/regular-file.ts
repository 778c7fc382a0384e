import { closeSync, constants, fstatSync, openSync, readSync } from "node:fs";
import { type FileHandle, open } from "node:fs/promises";

/**
 * Opening a file that someone else's code may have put there (a job's folder, a workspace): never
 * through a symbolic link, and never waiting on a FIFO or a device for a writer.
 */
const untrustedFlags = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;

/** A regular file opened for reading without following a link or blocking; undefined for anything else or nothing. */
export async function openRegularFile(path: string): Promise<FileHandle | undefined> {
	const handle = await open(path, untrustedFlags).catch(() => undefined);
	if (!handle) return undefined;
	const isFile = await handle.stat().then(
		(s) => s.isFile(),
		() => false,
	);
	if (isFile) return handle;
	await handle.close();
	return undefined;
}

/** What `readRegularFile` read: at most the bytes asked for, the file's size and modification time. */
export interface RegularFileText {
	text: string;
	size: number;
	mtime: Date;
}

/**
 * Reads at most `maxBytes` of a regular file (its end with `fromEnd`), without following a link or
 * blocking on a FIFO; undefined when there is no regular file there. A file a job wrote can be as
 * large as it likes: only what is asked for is read.
 */
export async function readRegularFile(
	path: string,
	maxBytes: number,
	fromEnd = false,
): Promise<RegularFileText | undefined> {
	const handle = await openRegularFile(path);
	if (!handle) return undefined;
	try {
		const s = await handle.stat();
		const start = fromEnd ? Math.max(0, s.size - maxBytes) : 0;
		const buf = Buffer.alloc(Math.min(maxBytes, s.size - start));
		const { bytesRead } = await handle.read(buf, 0, buf.length, start);
		return { text: buf.subarray(0, bytesRead).toString("utf8"), size: s.size, mtime: s.mtime };
	} catch {
		return undefined;
	} finally {
		await handle.close();
	}
}

/** `readRegularFile` done at once (a local disk), for the first `maxBytes`. */
export function readRegularFileSync(path: string, maxBytes: number): RegularFileText | undefined {
	let fd: number;
	try {
		fd = openSync(path, untrustedFlags);
	} catch {
		return undefined;
	}
	try {
		const s = fstatSync(fd);
		if (!s.isFile()) return undefined;
		const buf = Buffer.alloc(Math.min(maxBytes, s.size));
		const n = readSync(fd, buf, 0, buf.length, 0);
		return { text: buf.subarray(0, n).toString("utf8"), size: s.size, mtime: s.mtime };
	} catch {
		return undefined;
	} finally {
		closeSync(fd);
	}
}
