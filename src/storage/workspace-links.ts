import { randomBytes } from "node:crypto";
import { closeSync, createReadStream, createWriteStream, fstatSync, type Stats, writeFileSync } from "node:fs";
import { link, lstat, mkdir, readdir, realpath, rename, rm, rmdir, unlink } from "node:fs/promises";
import { basename, dirname, isAbsolute, join, relative } from "node:path";
import { pipeline } from "node:stream/promises";
import { createFileIn, openFileWithin } from "../archive/index.js";
import { AppError, isAppError } from "../common/index.js";
import { internalDir, isInside } from "./workspace-path.js";

/** Files to bring into a folder of a workspace: folders to make, texts to write, files to link from elsewhere in it. */
export interface WorkspaceLinks {
	folders: readonly string[];
	literals: ReadonlyArray<{ contents: string; target: string }>;
	links: ReadonlyArray<{ from: string; target: string }>;
	/**
	 * A folder that afterwards holds only what this plan placed in it, and the files it linked from
	 * there: anything else in it (an earlier placement's, a restarted run's parent's) is removed.
	 */
	exclusiveFolder?: string;
}

/**
 * Makes files of a workspace appear at other places in it: hard links (no copy, and the originals stay
 * valid), a copy where the filesystem cannot link. A target that exists is replaced, so doing it again
 * gives the same result. Every path must be in the workspace and outside Orrery's own folder. With
 * `exclusiveFolder`, what else that folder holds is removed once everything is placed.
 *
 * A job may have left symbolic links anywhere in the workspace (an `outputs` leading to a folder of
 * the server's): every folder is made one part at a time and checked on disk, and each file is placed
 * under a temporary name in the checked folder and renamed over the target, which replaces a link
 * there instead of writing through it.
 */
export async function linkInWorkspace(workspace: string, plan: WorkspaceLinks): Promise<void> {
	const own = `${workspace}/${internalDir}`;
	const check = (path: string) => {
		if (!isInside(workspace, path) || isInside(own, path))
			throw new AppError("internal", `${path} is not a place in the workspace ${workspace}`);
	};
	for (const folder of plan.folders) check(folder);
	if (plan.exclusiveFolder !== undefined) {
		check(plan.exclusiveFolder);
		if (relative(workspace, plan.exclusiveFolder) === "")
			throw new AppError("internal", `the whole workspace ${workspace} cannot be emptied`);
	}
	for (const { target } of plan.literals) check(target);
	for (const { from, target } of plan.links) {
		check(from);
		check(target);
	}
	const places = checkedPlaces(workspace, await realpath(workspace));
	for (const folder of plan.folders) await places.folder(folder);
	for (const { contents, target } of plan.literals) {
		const name = places.shown(target);
		const folder = await places.folder(dirname(target));
		await placeFile(folder, basename(target), name, { contents });
	}
	for (const { from: given, target } of plan.links) {
		if (given === target) continue;
		const name = places.shown(given);
		// A link made to a symbolic link would be the link itself, whose relative target may not resolve
		// from its new place: link the file it leads to, which must be in the workspace too.
		const from = await realpath(given);
		if (!places.isAllowed(from))
			throw new AppError(
				"validation_failed",
				`the output '${name}' leads outside the workspace through a symbolic link`,
			);
		const folder = await places.folder(dirname(target));
		const at = join(folder, basename(target));
		// Already there (the file is its own place): replacing the target would remove the file.
		if (from === at) continue;
		const source = openFileWithin(from, places.realRoot, name);
		try {
			const original = fstatSync(source);
			if (isSameFile(await lstat(at).catch(() => undefined), original)) continue;
			const linkAt = async (temp: string) => {
				try {
					await link(from, temp);
				} catch (error) {
					if ((error as NodeJS.ErrnoException).code === "ENOENT") throw error;
					return false;
				}
				// The name linked must still be the file opened and checked (no folder on the way swapped since).
				if (!isSameFile(await lstat(temp), original)) {
					await rm(temp, { force: true });
					throw new AppError("validation_failed", `the output '${name}' was replaced while the outputs were published`);
				}
				return true;
			};
			await placeFile(folder, basename(target), name, { linkAt, source });
		} finally {
			closeSync(source);
		}
	}
	if (plan.exclusiveFolder !== undefined) {
		const only = plan.exclusiveFolder;
		const kept = new Set<string>();
		const keep = (path: string) => {
			const rel = relative(only, path);
			if (rel !== "" && rel !== ".." && !rel.startsWith("../") && !isAbsolute(rel)) kept.add(rel);
		};
		for (const folder of plan.folders) keep(folder);
		for (const { target } of plan.literals) keep(target);
		for (const { from, target } of plan.links) {
			keep(from);
			keep(target);
		}
		await removeAllBut(await places.folder(only), "", kept, places.shown(only));
	}
}

/**
 * Removes everything in the real folder `real` whose path relative to the exclusive folder is not
 * kept, and the folders left empty (a kept one stays). Links are removed, never followed; a folder
 * that became a link meanwhile stops it. Returns whether the folder is empty afterwards.
 */
async function removeAllBut(real: string, rel: string, kept: ReadonlySet<string>, shown: string): Promise<boolean> {
	let left = 0;
	const gone = (error: NodeJS.ErrnoException) => {
		if (error.code !== "ENOENT") throw error;
	};
	for (const entry of await readdir(real, { withFileTypes: true })) {
		const name = rel === "" ? entry.name : `${rel}/${entry.name}`;
		const at = join(real, entry.name);
		if (!entry.isDirectory()) {
			if (kept.has(name)) left++;
			else await unlink(at).catch(gone);
			continue;
		}
		if ((await realpath(at)) !== at)
			throw new AppError(
				"validation_failed",
				`the folder '${shown}/${name}' was replaced while the outputs were published`,
			);
		if ((await removeAllBut(at, name, kept, shown)) && !kept.has(name)) await rmdir(at).catch(gone);
		else left++;
	}
	return left === 0;
}

function isSameFile(a: Stats | undefined, b: Stats): boolean {
	return a?.isFile() === true && a.dev === b.dev && a.ino === b.ino;
}

/** Folders of a workspace made and checked once each (by path), and the real path each has. */
function checkedPlaces(workspace: string, realRoot: string) {
	const realOwn = join(realRoot, internalDir);
	const known = new Map<string, Promise<string>>();
	const shown = (path: string) => relative(workspace, path) || ".";
	const isAllowed = (real: string) => isInside(realRoot, real) && !isInside(realOwn, real);
	// Made if missing in its parent's real folder (mkdir never follows a link in the last part), then
	// its real path must be in the workspace.
	const makeOne = async (path: string, parent: Promise<string>): Promise<string> => {
		const place = join(await parent, basename(path));
		await mkdir(place).catch((error: NodeJS.ErrnoException) => {
			if (error.code !== "EEXIST") throw error;
		});
		const real = await realpath(place);
		if (!isAllowed(real))
			throw new AppError(
				"validation_failed",
				`the folder '${shown(path)}' leads outside the workspace through a symbolic link; the outputs were not published there`,
			);
		return real;
	};
	const folder = (path: string): Promise<string> => {
		if (relative(workspace, path) === "") return Promise.resolve(realRoot);
		let real = known.get(path);
		if (!real) {
			real = makeOne(path, folder(dirname(path)));
			known.set(path, real);
		}
		return real;
	};
	return { realRoot, folder, shown, isAllowed };
}

/** How `placeFile` makes the file: text to write, or a hard link (`linkAt`: false when the filesystem cannot link) and else a copy of `source`. */
interface FileSource {
	contents?: string;
	linkAt?: (temp: string) => Promise<boolean>;
	source?: number;
}

/**
 * Puts a file at `base` in the checked real folder `folder`: under a temporary name, linked there or
 * created exclusively (never through a link) and filled, then renamed over whatever is at `base` (a
 * link there is replaced, never followed).
 */
async function placeFile(folder: string, base: string, name: string, how: FileSource): Promise<void> {
	const tempBase = `.orrery-publish-${randomBytes(6).toString("hex")}`;
	const temp = join(folder, tempBase);
	try {
		if (!(how.linkAt && (await how.linkAt(temp)))) {
			const fd = createTemp(folder, tempBase, name);
			if (how.source === undefined) {
				try {
					writeFileSync(fd, how.contents ?? "");
				} finally {
					closeSync(fd);
				}
			} else {
				await pipeline(
					createReadStream("", { fd: how.source, autoClose: false, start: 0 }),
					createWriteStream("", { fd }),
				);
			}
		}
		await rename(temp, join(folder, base));
	} catch (error) {
		await rm(temp, { force: true });
		throw error;
	}
}

/** A new file in a checked folder, opened exclusively; its folder must not have moved since the check. */
function createTemp(folder: string, base: string, name: string): number {
	try {
		return createFileIn({ path: folder, real: folder }, base, name);
	} catch (error) {
		if (isAppError(error) && error.code === "validation_failed")
			throw new AppError(
				"validation_failed",
				`the folder of the output '${name}' was replaced by a link while the outputs were published`,
				{ cause: error },
			);
		throw error;
	}
}
