import { closeSync, constants, fstatSync, lstatSync, openSync, readlinkSync, realpathSync } from "node:fs";
import { dirname, isAbsolute, join, relative, sep } from "node:path";
import { AppError } from "../common/index.js";

/** Never through a symbolic link as the last part, never waiting on a FIFO or a device for a writer. */
const readFlags = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;
/** A new file only: `O_EXCL` also refuses a symbolic link in the name's place. */
const createFlags = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;

/** True when `path` is `folder` or lies below it (both absolute and real). */
export function liesWithin(folder: string, path: string): boolean {
	const rel = relative(folder, path);
	return rel === "" || (rel !== ".." && !rel.startsWith(`..${sep}`) && !isAbsolute(rel));
}

/**
 * Where an open file really is, from its descriptor: Linux's /proc says; elsewhere the real path
 * of `path` counts when it is the same file (device and inode) as the descriptor.
 */
function realPathOf(fd: number, path: string): string | undefined {
	try {
		return readlinkSync(`/proc/self/fd/${fd}`);
	} catch {
		// No /proc (macOS): compare the file at the path with the one open.
		const real = realpathSync.native(path);
		const open = fstatSync(fd);
		const there = lstatSync(real);
		return open.dev === there.dev && open.ino === there.ino ? real : undefined;
	}
}

/**
 * Opens a regular file for reading that other code (a job) may change meanwhile, and checks where the
 * descriptor really is: under `within` (a real path). A link or a FIFO in the file's place, or a
 * folder on the way swapped for a link to elsewhere after the path was checked, is refused instead of
 * followed. Node has no openat(), so the check is made on the opened descriptor, which is what is then
 * read: nothing is read from a file outside. `name` is the path shown in messages. Returns the descriptor.
 */
export function openFileWithin(path: string, within: string, name: string): number {
	let fd: number;
	try {
		fd = openSync(path, readFlags);
	} catch (error) {
		const code = (error as NodeJS.ErrnoException).code;
		if (code === "ENOENT" || code === "ENOTDIR")
			throw new AppError("not_found", `'${name}' does not exist in the workspace; list the files with 'orrery ls'`);
		if (code === "ELOOP" || code === "ENXIO") throw notRegular(name);
		throw error;
	}
	try {
		if (!fstatSync(fd).isFile()) throw notRegular(name);
		const real = realPathOf(fd, path);
		if (real === undefined || !liesWithin(within, real))
			throw new AppError("validation_failed", `'${name}' leads outside the workspace through a symbolic link`);
		return fd;
	} catch (error) {
		closeSync(fd);
		throw error;
	}
}

function notRegular(name: string): AppError {
	return new AppError(
		"validation_failed",
		`'${name}' is not a regular file (a link, FIFO, socket or device); only files and folders can be downloaded`,
	);
}

/** A folder to write into: its path and, fixed when it was checked, its real path. */
export interface CheckedFolder {
	path: string;
	real: string;
}

/**
 * Creates a new file in a checked folder for writing and returns its descriptor: right before the
 * open the folder must still be where it was checked (no part swapped for a link since), the open is
 * exclusive (never through a link, never over an existing name), and right after it the new file must
 * be in that folder. Node has no openat(), so a swap between the checks and a later rename by path
 * stays possible; these checks narrow it to a few system calls, and a file never starts outside.
 * `name` is the path shown in messages.
 */
export function createFileIn(folder: CheckedFolder, base: string, name: string): number {
	const moved = () =>
		new AppError(
			"validation_failed",
			`the folder of '${name}' was replaced by a link during the transfer; send it again`,
		);
	if (realpathSync.native(folder.path) !== folder.real) throw moved();
	const path = join(folder.path, base);
	const fd = openSync(path, createFlags, 0o644);
	try {
		const real = realPathOf(fd, path);
		if (real === undefined || dirname(real) !== folder.real) throw moved();
		return fd;
	} catch (error) {
		closeSync(fd);
		throw error;
	}
}
