import { closeSync, constants, openSync, realpathSync } from "node:fs";
import { dirname, join } from "node:path";
import { AppError, openUntrustedFileSync, realPathOfSync } from "../common/index.js";

/** A new file only: `O_EXCL` also refuses a symbolic link in the name's place. */
const createFlags = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;

/**
 * Opens a regular file for reading that other code (a job) may change meanwhile, and checks where the
 * descriptor really is: under `within` (a real path). A link or a FIFO in the file's place, or a
 * folder on the way swapped for a link to elsewhere after the path was checked, is refused instead of
 * followed (`openUntrustedFileSync`): nothing is read from a file outside. `name` is the path shown in
 * messages. Returns the descriptor.
 */
export function openFileWithin(path: string, within: string, name: string): number {
	const opened = openUntrustedFileSync(path, { within });
	if ("fd" in opened) return opened.fd;
	switch (opened.refused) {
		case "missing":
			throw new AppError("not_found", `'${name}' does not exist in the workspace; list the files with 'orrery ls'`);
		case "link":
		case "not_regular":
			throw notRegular(name);
		case "outside":
			throw new AppError("validation_failed", `'${name}' leads outside the workspace through a symbolic link`);
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
		const real = realPathOfSync(fd, path);
		if (real === undefined || dirname(real) !== folder.real) throw moved();
		return fd;
	} catch (error) {
		closeSync(fd);
		throw error;
	}
}
