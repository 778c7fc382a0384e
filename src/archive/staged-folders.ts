import { lstat, mkdir, readdir, rename, rm, rmdir } from "node:fs/promises";
import { join, posix } from "node:path";
import { AppError, newId } from "../common/index.js";
import type { UnpackFolder } from "./tar-unpack.js";
import { sweepUploadLeftovers } from "./upload-leftovers.js";

/** Folders made out of sight while an archive is unpacked, moved into place when it is complete. */
export interface StagedFolders {
	/** `UnpackOptions.folderOf`: an existing folder as it is, a missing one inside its hidden copy. */
	folderOf(dir: string): Promise<UnpackFolder>;
	/** Moves every hidden folder into place (call once the archive is complete). */
	commit(): Promise<void>;
	/** Removes what was unpacked out of sight (after a failure). */
	abandon(): Promise<void>;
}

/**
 * A folder the destination does not have yet is unpacked under a hidden name beside its place
 * (`.name.<id>.upload`) and moved into place with one rename once the whole archive is in: its
 * files can be written directly (no temporary name and rename per file, which is half the cost of a
 * small file), and nobody sees them before the archive is complete.
 *
 * `locate` answers where an existing folder is, by its normalised relative name (`""`: the root,
 * which must exist), after whatever checks the destination needs; undefined when it does not
 * exist; it throws for a name that is not a folder.
 *
 * Each existing folder an archive writes into, or makes a folder in, is swept of what earlier
 * transfers killed midway left there (see `sweepUploadLeftovers`): rerunning a transfer after a crash
 * cleans up after it.
 */
export function stagedFolders(locate: (dir: string) => Promise<string | undefined>): StagedFolders {
	// The highest folder the archive makes, by its relative name → where it is unpacked.
	const staged = new Map<string, string>();
	const required = async (dir: string): Promise<string> => {
		const abs = await locate(dir);
		if (abs === undefined) throw new AppError("not_found", `the folder ${dir || "."} no longer exists`);
		return abs;
	};
	const parentOf = (dir: string) => (dir.includes("/") ? dir.slice(0, dir.lastIndexOf("/")) : "");
	return {
		async folderOf(dir) {
			for (const [top, hidden] of staged) {
				if (dir !== top && !dir.startsWith(`${top}/`)) continue;
				const path = join(hidden, dir.slice(top.length));
				await mkdir(path, { recursive: true });
				return { path, isNew: true };
			}
			const here = await locate(dir);
			if (here !== undefined) {
				await sweepUploadLeftovers(here);
				return here;
			}
			// The highest missing folder on the way: the archive's own from there down.
			const parts = dir.split("/");
			let top = dir;
			for (let i = 1; i < parts.length; i++) {
				const name = parts.slice(0, i).join("/");
				if ((await locate(name)) === undefined) {
					top = name;
					break;
				}
			}
			const parent = await required(parentOf(top));
			await sweepUploadLeftovers(parent);
			// The start of the folder's name only, so that any name that fits has a hidden one that fits too.
			const hidden = join(parent, `.${posix.basename(top).slice(0, 32)}.${newId().slice(0, 8)}.upload`);
			await mkdir(hidden);
			staged.set(top, hidden);
			const path = join(hidden, dir.slice(top.length));
			await mkdir(path, { recursive: true });
			return { path, isNew: true };
		},
		async commit() {
			for (const [top, hidden] of staged) {
				await moveInto(hidden, join(await required(parentOf(top)), posix.basename(top)), top);
				staged.delete(top);
			}
		},
		async abandon() {
			await Promise.all([...staged.values()].map((hidden) => rm(hidden, { recursive: true, force: true })));
			staged.clear();
		},
	};
}

/**
 * Moves an unpacked folder into its place: one rename, or (when something else made the folder
 * meanwhile) entry by entry into it, files replacing files. Never follows a symbolic link: a link
 * where a folder should be is an error.
 */
async function moveInto(from: string, to: string, name: string): Promise<void> {
	const notFolder = () => new AppError("validation_failed", `${name} is a file or a link, not a folder`);
	// The hidden folder itself may have been replaced by a link meanwhile: never move what is elsewhere.
	if (!(await lstat(from)).isDirectory()) throw notFolder();
	try {
		await rename(from, to);
		return;
	} catch (error) {
		const code = (error as NodeJS.ErrnoException).code;
		if (code === "ENOTDIR") throw notFolder();
		if (code !== "ENOTEMPTY" && code !== "EEXIST") throw error;
	}
	if (!(await lstat(to)).isDirectory()) throw notFolder();
	for (const entry of await readdir(from, { withFileTypes: true })) {
		const child = `${name}/${entry.name}`;
		if (entry.isDirectory()) await moveInto(join(from, entry.name), join(to, entry.name), child);
		else
			await rename(join(from, entry.name), join(to, entry.name)).catch((error: NodeJS.ErrnoException) => {
				if (error.code !== "EISDIR" && error.code !== "ENOTDIR" && error.code !== "ENOTEMPTY") throw error;
				throw new AppError("validation_failed", `${child} is a folder, not a file`);
			});
	}
	await rmdir(from);
}
