import {
	closeSync,
	constants,
	createReadStream,
	createWriteStream,
	type Dir,
	existsSync,
	fstatSync,
	lstatSync,
	opendirSync,
	openSync,
	realpathSync,
	type Stats,
} from "node:fs";
import { lstat, mkdir, realpath, rename, rm, rmdir, stat, unlink } from "node:fs/promises";
import { dirname, join, relative } from "node:path";
import { PassThrough, type Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import picomatch from "picomatch";
import yazl from "yazl";
import { createFileIn, fileErrorOf, openFileWithin, sweepUploadLeftovers } from "../archive/index.js";
import { AppError, GlobTooLargeError, globPathMatcher, newId } from "../common/index.js";
import {
	internalDir,
	locateInWorkspace,
	normaliseUserPath,
	resolveInWorkspace,
	UnsafePathError,
} from "./workspace-path.js";

/** One file of a workspace listing. */
export interface WorkspaceEntry {
	/** Path relative to the workspace, with `/` separators. */
	name: string;
	size: number;
	modified: Date;
	isDirectory: boolean;
	/** A symbolic link (listed only when asked for; never followed). */
	isLink?: true;
}

/** Opening a folder to walk: never through a link as its last part. */
const folderFlags = constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW;

/** Linux names every open descriptor (`/proc/self/fd/N`): a walk reads the folder it opened, not a path. */
const hasProcFds = existsSync("/proc/self/fd");

/** Entries examined between two returns to the event loop while walking. */
const walkSlice = 256;

/**
 * Walks a workspace (or a folder of it) and yields its files, skipping Orrery's internal folder.
 * Entries are read and examined with direct system calls, at most 256 at a time before the walk
 * returns to the event loop: a listing of 10,000 files takes ~50 ms instead of ~200 ms through the
 * thread pool, and no request waits behind more than one slice (still streaming, however large a
 * folder is).
 */
export async function* walkFiles(
	root: string,
	sub = "",
	withDirectories = false,
	withLinks = false,
): AsyncGenerator<WorkspaceEntry> {
	// Names are relative to the root's real path: the root may be reached through a link (a linked
	// ORRERY_HOME, /lustre links), and a resolved folder is a real path.
	const realRoot = await realpath(root);
	const start = sub ? await resolveInWorkspace(root, sub) : realRoot;
	// Each folder with its name relative to the root (`/` separators); names and paths are built by
	// concatenation, cheaper than `relative()` and `join()` per entry.
	// A folder is read only if it is still the one its parent listed (device and inode): a job that
	// swaps a folder for a link to another (or renames one in its place) while the walk goes on does
	// not lead it elsewhere. Its entries are then examined through the open folder (/proc/self/fd).
	const stack: Array<[string, string, Stats | undefined]> = [
		[start, relative(realRoot, start).split("\\").join("/"), undefined],
	];
	while (stack.length > 0) {
		const [dir, prefix, seen] = stack.pop() as [string, string, Stats | undefined];
		let handle: Dir;
		let fd: number | undefined;
		try {
			fd = openSync(dir, folderFlags);
			const st = fstatSync(fd);
			if (seen && (st.dev !== seen.dev || st.ino !== seen.ino)) {
				closeSync(fd);
				continue;
			}
			handle = opendirSync(hasProcFds ? `/proc/self/fd/${fd}` : dir);
		} catch (error) {
			if (fd !== undefined) closeSync(fd);
			const code = (error as NodeJS.ErrnoException).code;
			if (code === "ENOENT" || code === "ENOTDIR" || code === "ELOOP") continue;
			throw error;
		}
		const base = hasProcFds ? `/proc/self/fd/${fd}` : dir;
		try {
			for (;;) {
				const slice: WorkspaceEntry[] = [];
				let ended = false;
				for (let seen = 0; seen < walkSlice; seen++) {
					const d = handle.readSync();
					if (d === null) {
						ended = true;
						break;
					}
					const abs = dir.endsWith("/") ? `${dir}${d.name}` : `${dir}/${d.name}`;
					const name = prefix ? `${prefix}/${d.name}` : d.name;
					if (name === internalDir) continue;
					const isDirectory = d.isDirectory();
					// Symlinks are never followed (they could point anywhere), and listed only when asked for.
					const isLink = withLinks && d.isSymbolicLink();
					if (!(d.isFile() || isLink || isDirectory)) continue;
					const st = lstatSync(`${base}/${d.name}`, { throwIfNoEntry: false });
					if (isDirectory && st?.isDirectory()) stack.push([abs, name, st]);
					if (isDirectory && !withDirectories) continue;
					if (!st) {
						// A name that is not UTF-8 cannot be named again (Node decodes it with U+FFFD): a walk
						// that must see every entry (a cache's manifest) says so rather than leave it out.
						if (withLinks && name.includes("\uFFFD"))
							throw new AppError(
								"validation_failed",
								`the file name '${name}' is not UTF-8; the results of this workspace's jobs are not cached`,
							);
						continue;
					}
					const entry: WorkspaceEntry = { name, size: isDirectory ? 0 : st.size, modified: st.mtime, isDirectory };
					if (isLink) entry.isLink = true;
					slice.push(entry);
				}
				yield* slice; // entries removed meanwhile are left out
				if (ended) break;
				await new Promise<void>((resume) => setImmediate(resume));
			}
		} finally {
			handle.closeSync();
			closeSync(fd);
		}
	}
}

/** Files of a workspace matching an optional glob, sorted by name. */
export async function listFiles(root: string, pattern?: string): Promise<WorkspaceEntry[]> {
	const matches = pattern ? globMatcher(pattern) : () => true;
	const out: WorkspaceEntry[] = [];
	for await (const e of walkFiles(root)) if (matches(e.name)) out.push(e);
	return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** True when a string is a glob pattern rather than a plain path. */
export function isGlob(path: string): boolean {
	return picomatch.scan(path).isGlob;
}

/** A linear-time matcher for a user's glob over workspace paths (`*` matches dot files too, `**` any folders). */
export function globMatcherOf(pattern: string): (name: string) => boolean {
	try {
		return globPathMatcher(pattern, { dot: true });
	} catch (error) {
		if (error instanceof GlobTooLargeError) throw new AppError("validation_failed", error.message);
		throw error;
	}
}

function globMatcher(pattern: string): (name: string) => boolean {
	const clean = pattern.replace(/^\/+/, "");
	// A linear-time matcher: a regular expression made from a user's glob can backtrack for minutes.
	const isMatch = globMatcherOf(clean);
	// A plain directory name matches everything below it, as in REANA.
	return (name) => isMatch(name) || name.startsWith(`${clean.replace(/\/+$/, "")}/`);
}

/** Streams a request body into a workspace file; the file appears complete or not at all. */
export async function writeFileFromStream(
	root: string,
	path: string,
	body: Readable,
	options: { signal?: AbortSignal; maxBytes?: number } = {},
): Promise<{ path: string; size: number }> {
	const clean = normaliseUserPath(path);
	if (!clean) throw new AppError("validation_failed", "a file name is required");
	const target = await resolveInWorkspace(root, clean);
	const folder = dirname(target);
	await mkdir(folder, { recursive: true }).catch((error: unknown) => {
		throw fileErrorOf(error, clean);
	});
	await sweepUploadLeftovers(folder);
	const existing = await lstat(target).catch(() => undefined);
	if (existing?.isDirectory()) {
		throw new AppError("conflict", `'${clean}' is a directory in the workspace; choose another file name`);
	}
	const tempName = `.${newId()}.upload`;
	const temp = join(folder, tempName);
	let size = 0;
	const limit = options.maxBytes;
	body.on("data", (chunk: Buffer) => {
		size += chunk.length;
		if (limit !== undefined && size > limit) body.destroy(new AppError("validation_failed", "the upload is too large"));
	});
	try {
		// `folder` is a real path: a folder swapped for a link before the open is refused (`createFileIn`).
		const fd = createFileIn({ path: folder, real: folder }, tempName, clean);
		await pipeline(
			body,
			createWriteStream(temp, { fd, highWaterMark: 1024 * 1024 }),
			options.signal ? { signal: options.signal } : {},
		);
		// Resolve again: a symlink may have appeared where the file goes while the bytes were streaming.
		await resolveInWorkspace(root, clean);
		await rename(temp, target);
	} catch (error) {
		await unlink(temp).catch(() => undefined);
		throw fileErrorOf(error, clean);
	}
	return { path: clean, size };
}

/** What a download of a workspace path resolves to: one file, or a set of files to zip. */
export type DownloadSource =
	| {
			kind: "file";
			absolute: string;
			/** The path as asked for (normalised), and the workspace's real path: for `readStream`'s checks. */
			path: string;
			within: string;
			/** The file's path in the workspace (`results/out.txt`): REANA's clients save it under that path. */
			name: string;
			size: number;
			stats: Stats;
	  }
	| {
			kind: "zip";
			/** The last segment of the folder or glob asked for (`results`, `*.txt`), `workspace` for all of it. */
			name: string;
			files: WorkspaceEntry[];
	  };

/** Resolves a download request: a file (or a glob matching one) streams as itself; a directory or a glob becomes a zip. */
export async function resolveDownload(root: string, path: string): Promise<DownloadSource> {
	let clean = normaliseUserPath(path);
	if (clean && isGlob(clean)) {
		const files = await listFiles(root, clean);
		if (files.length === 0) throw new AppError("not_found", `no file in the workspace matches '${clean}'`);
		// A glob that matches one file serves that file, as REANA does.
		if (files.length > 1) return { kind: "zip", name: clean.split("/").pop() || clean, files };
		clean = (files[0] as WorkspaceEntry).name;
	}
	const absolute = await resolveInWorkspace(root, clean);
	const s = await stat(absolute).catch(() => undefined);
	if (!s)
		throw new AppError(
			"not_found",
			`'${clean}' does not exist in the workspace; list the files with 'ls' (orrery or reana-client)`,
		);
	if (s.isDirectory()) {
		const files = await collect(walkFiles(root, clean));
		return { kind: "zip", name: clean ? (clean.split("/").pop() ?? clean) : "workspace", files };
	}
	// A FIFO, socket or device a job made is never opened: reading one could wait forever.
	if (!s.isFile()) {
		throw new AppError(
			"validation_failed",
			`'${clean}' is not a regular file (a FIFO, socket or device); only files and folders can be downloaded`,
		);
	}
	return { kind: "file", absolute, path: clean, within: await realpath(root), name: clean, size: s.size, stats: s };
}

/**
 * A zip archive of workspace files, produced as a stream (nothing is held in memory). Each file is
 * opened when its turn comes with `openFileWithin`: one that became a link, a FIFO or a device since
 * it was listed ends the archive with an error instead of being followed or waited on.
 */
export function zipStream(root: string, files: WorkspaceEntry[]): Readable {
	const within = realpathSync.native(root);
	const zip = new yazl.ZipFile();
	const out = zip.outputStream as Readable;
	// yazl reports on the zip file, not its output: without this an error would go unhandled.
	zip.on("error", (error: Error) => out.destroy(error));
	for (const f of files) {
		zip.addReadStreamLazy(f.name, { mtime: f.modified }, (done) => {
			let fd: number;
			try {
				fd = openFileWithin(join(within, f.name), within, f.name);
			} catch (error) {
				done(error, new PassThrough()); // yazl reads the error and ignores the stream
				return;
			}
			done(null, createReadStream("", { fd }));
		});
	}
	zip.end();
	return out;
}

/** Opens a file `resolveDownload` found for reading (see `openFileWithin`), a byte range of it or all. */
export function readStream(
	source: Extract<DownloadSource, { kind: "file" }>,
	range?: { start: number; end: number },
): Readable {
	const fd = openFileWithin(source.absolute, source.within, source.path);
	return createReadStream("", { fd, ...range });
}

/** Deletes the files a path or glob names; reports what was deleted and what failed, as REANA does. */
export async function deleteFiles(
	root: string,
	pattern: string,
): Promise<{ deleted: Record<string, { size: number }>; failed: Record<string, { error: string }> }> {
	const clean = normaliseUserPath(pattern);
	if (!clean)
		throw new AppError("validation_failed", "name the files to delete; the whole workspace cannot be deleted this way");
	const deleted: Record<string, { size: number }> = {};
	const failed: Record<string, { error: string }> = {};
	// The entry named itself, not what a link there points to (`locateInWorkspace`): deleting a link
	// removes the link.
	const named = isGlob(clean) ? undefined : await locateInWorkspace(root, clean);
	const s = named === undefined ? undefined : await lstat(named).catch(() => undefined);
	const targets = isGlob(clean)
		? await globbedEntries(root, clean)
		: s?.isDirectory()
			? await collect(walkFiles(root, clean))
			: s
				? [{ name: clean, size: s.size, modified: s.mtime, isDirectory: false }]
				: [];
	for (const f of targets) {
		try {
			const at = await locateInWorkspace(root, f.name);
			await (f.isDirectory ? rmdir(at) : unlink(at));
			deleted[f.name] = { size: f.size };
		} catch (error) {
			failed[f.name] = { error: failureOf(error) };
		}
	}
	if (named !== undefined && s?.isDirectory()) {
		try {
			// `rm` removes links inside the folder as links, never following them.
			await rm(named, { recursive: true, force: true });
		} catch (error) {
			// The files that could not be deleted keep their folder, and are reported already.
			if (Object.keys(failed).length === 0) failed[clean] = { error: failureOf(error) };
		}
	}
	return { deleted, failed };
}

/**
 * The files and folders a glob matches, as REANA's delete takes them: each file first, then each
 * folder, deeper ones before those holding them, so a folder whose contents the glob matched too is
 * empty by its turn (and removed), and one that still holds files is reported, not emptied.
 */
async function globbedEntries(root: string, pattern: string): Promise<WorkspaceEntry[]> {
	const matches = globMatcher(pattern);
	const entries: WorkspaceEntry[] = [];
	for await (const e of walkFiles(root, "", true)) if (matches(e.name)) entries.push(e);
	const files = entries.filter((e) => !e.isDirectory);
	const folders = entries.filter((e) => e.isDirectory).sort((a, b) => b.name.length - a.name.length);
	return [...files.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)), ...folders];
}

/**
 * Removes a folder of a workspace with everything in it, for Orrery's own clean-ups (the job folders
 * of a deleted run). Every folder on the way, the folder itself included, must be a real folder:
 * a path that leads through a symbolic link is refused, and links inside are removed, never
 * followed. Answers whether the folder was there.
 */
export async function removeFolder(root: string, path: string): Promise<boolean> {
	const clean = normaliseUserPath(path);
	if (!clean) throw new UnsafePathError(path, "it names the workspace itself");
	const realRoot = await realpath(root);
	let at = realRoot;
	for (const part of clean.split("/")) {
		at = join(at, part);
		const s = await lstat(at).catch(() => undefined);
		if (!s) return false;
		if (!s.isDirectory())
			throw new UnsafePathError(path, `'${relative(realRoot, at)}' is a symbolic link or a file, not a folder`);
	}
	await rm(at, { recursive: true, force: true });
	return true;
}

/** Why a file could not be deleted, in words for the user: never a path of the server. */
function failureOf(error: unknown): string {
	if (error instanceof AppError) return error.message;
	const code = (error as NodeJS.ErrnoException).code;
	if (code === "ENOENT") return "it no longer exists";
	if (code === "EACCES" || code === "EPERM") return "permission denied";
	if (code === "ENOTEMPTY" || code === "EEXIST")
		return "it is a folder that is not empty; name the folder itself (not a pattern) to delete it with everything in it";
	if (code === "EROFS") return "the workspace is on a read-only filesystem";
	return `it could not be deleted (${code ?? "unknown error"})`;
}

/** The total size in bytes of a workspace's files (Orrery's job folders excluded). */
export async function diskUsage(root: string): Promise<number> {
	let total = 0;
	for await (const f of walkFiles(root)) total += f.size;
	return total;
}

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
	const out: T[] = [];
	for await (const x of it) out.push(x);
	return out;
}

/** Moves (renames) a file or folder inside a workspace; the target must not exist. */
export async function moveFile(root: string, source: string, target: string): Promise<void> {
	const from = await resolveInWorkspace(root, source);
	const to = await resolveInWorkspace(root, target);
	if (!normaliseUserPath(source) || !normaliseUserPath(target)) {
		throw new AppError("validation_failed", "name a file or folder inside the workspace, not the workspace itself");
	}
	const s = await lstat(from).catch(() => undefined);
	if (!s) throw new AppError("not_found", `'${source}' does not exist in the workspace`);
	if (await lstat(to).catch(() => undefined))
		throw new AppError("conflict", `'${target}' already exists in the workspace`);
	if (s.isDirectory() && `${to}/`.startsWith(`${from}/`))
		throw new AppError("validation_failed", `cannot move '${source}' into itself`);
	try {
		await mkdir(dirname(to), { recursive: true });
		await rename(from, to);
	} catch (error) {
		throw fileErrorOf(error, normaliseUserPath(target));
	}
}

/** Deletes every file of a workspace except those under the kept paths; returns the number deleted. */
export async function pruneWorkspace(root: string, keep: readonly string[]): Promise<number> {
	const kept = keep.map((k) => normaliseUserPath(k)).filter(Boolean);
	const isKept = (name: string) => kept.some((k) => name === k || name.startsWith(`${k}/`));
	let count = 0;
	for await (const f of walkFiles(root)) {
		if (isKept(f.name)) continue;
		await unlink(join(root, f.name));
		count++;
	}
	// Remove the folders left empty, deepest first.
	const dirs: string[] = [];
	for await (const d of walkFiles(root, "", true)) if (d.isDirectory && !isKept(d.name)) dirs.push(d.name);
	for (const d of dirs.sort((a, b) => b.length - a.length)) await rmdir(join(root, d)).catch(() => undefined);
	return count;
}
