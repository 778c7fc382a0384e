import { createHash, randomUUID } from "node:crypto";
import {
	closeSync,
	constants,
	createReadStream,
	createWriteStream,
	fchmodSync,
	lstatSync,
	openSync,
	readlinkSync,
	readSync,
	renameSync,
	type Stats,
	symlinkSync,
	unlinkSync,
	writeSync,
} from "node:fs";
import { mkdir, realpath, rm } from "node:fs/promises";
import { dirname, join, posix, relative } from "node:path";
import { pipeline } from "node:stream/promises";
import {
	AppError,
	liesWithin,
	openUntrustedFile,
	openUntrustedFileSync,
	type UntrustedFileOptions,
} from "../common/index.js";
import { digestWorkspaceFile } from "./file-digest.js";
import { HeldFolder } from "./held-folder.js";
import { runPool } from "./staging/transfer-pool.js";
import { walkFiles } from "./workspace-files.js";
import { internalDir, resolveInWorkspace } from "./workspace-path.js";

/**
 * What a workspace holds at one path: a file (its size, SHA-256 and permission bits), a symbolic link
 * (its target) or a folder.
 */
export type ManifestEntry = FileEntry | { link: string } | { dir: true };

/** A file of a manifest. */
export interface FileEntry {
	size: number;
	sha256: string;
	/** Permission bits (`0o755`); absent in entries recorded before they were. */
	mode?: number;
}

/** A workspace's files and links by path (relative, `/` separators), Orrery's own folder left out. */
export type Manifest = Map<string, ManifestEntry>;

/** What changed in a workspace between two manifests: paths written (with what they hold) and removed. */
export interface WorkspaceChanges {
	written: Record<string, ManifestEntry>;
	removed: string[];
}

/** What a digest was computed for: the file's identity and the times a change would move. */
interface Remembered {
	dev: number;
	ino: number;
	size: number;
	mtimeMs: number;
	ctimeMs: number;
	sha256: string;
}

/** Large files hashed at once while scanning (each streamed through the thread pool). */
const hashConcurrency = 2;

/**
 * Files up to this size are read, hashed and copied with direct system calls, a slice at a time (as
 * `walkFiles` reads folders): through streams each small file cost ~1.5 ms of set-up, 15 s for 10,000.
 */
const smallFileBytes = 1024 * 1024;

/** Small files handled between two returns to the event loop. */
const smallFileSlice = 128;

/** How recent a change must be for a digest not to be remembered (coarse timestamps, see `remember`). */
const recentMs = 2000;

/**
 * The SHA-256 of workspace files, remembered while the file stays as it was (same inode, size,
 * modification and change time: a change time cannot be set back by its owner), so that scanning a
 * workspace again reads only the files that changed since. Bounded: the oldest are forgotten first.
 */
export class FileDigests {
	private readonly known = new Map<string, Remembered>();
	/** Files being hashed now, so that a second asker waits for the same reading. */
	private readonly hashing = new Map<string, Promise<FileEntry | undefined>>();

	constructor(private readonly limit = 200_000) {}

	/**
	 * A workspace's manifest (or a folder's, with `within` the workspace: every file must lie in it);
	 * files that vanish while it is made are left out. A file name that is not UTF-8 cannot be named
	 * again: such a workspace is refused (`validation_failed`), as is a folder that leads out of `within`.
	 */
	async scan(root: string, options: { within?: string; signal?: AbortSignal } = {}): Promise<Manifest> {
		const signal = options.signal ?? new AbortController().signal;
		const realRoot = await realpath(root);
		const within = options.within ?? realRoot;
		if (!liesWithin(within, realRoot))
			throw new AppError("validation_failed", `'${root}' leads outside its workspace; its results are not cached`);
		const prefix = relative(within, realRoot);
		const nameIn = (name: string) => (prefix ? `${prefix}/${name}` : name);
		const manifest: Manifest = new Map();
		const large: string[] = [];
		let handled = 0;
		for await (const e of walkFiles(realRoot, "", true, true)) {
			if (e.name.includes("\uFFFD"))
				throw new AppError(
					"validation_failed",
					`the file name '${e.name}' is not UTF-8; the results of this workspace's jobs are not cached`,
				);
			const abs = `${realRoot}/${e.name}`;
			if (e.isLink) {
				const target = readlinkOrUndefined(abs);
				if (target !== undefined) manifest.set(e.name, { link: target });
				continue;
			}
			if (e.isDirectory) {
				manifest.set(e.name, { dir: true });
				continue;
			}
			const s = lstatSync(abs, { throwIfNoEntry: false });
			if (!s?.isFile()) continue;
			const known = this.recall(abs, s);
			if (known) manifest.set(e.name, known);
			else if (s.size > smallFileBytes) large.push(e.name);
			else {
				const entry = await this.hash(within, nameIn(e.name));
				if (entry) manifest.set(e.name, entry);
				if (++handled % smallFileSlice === 0) {
					signal.throwIfAborted();
					await new Promise<void>((resume) => setImmediate(resume));
				}
			}
		}
		await runPool(
			large,
			hashConcurrency,
			async (name) => {
				const entry = await this.hash(within, nameIn(name));
				if (entry) manifest.set(name, entry);
			},
			signal,
		);
		return new Map([...manifest].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
	}

	/**
	 * The digest of one file or folder of a workspace (a relative path; links inside the workspace are
	 * followed, none out of it): a file's SHA-256, a folder's manifest digest. Undefined when it is
	 * missing, leads out of the workspace, or is neither.
	 */
	async digestPath(root: string, path: string): Promise<string | undefined> {
		const realRoot = await realpath(root);
		const abs = await resolveInWorkspace(root, path).catch(() => undefined);
		const s = abs === undefined ? undefined : lstatSync(abs, { throwIfNoEntry: false });
		if (abs === undefined || !s) return undefined;
		if (s.isDirectory()) return manifestDigest(await this.scan(abs, { within: realRoot }));
		if (!s.isFile()) return undefined;
		const entry = this.recall(abs, s) ?? (await this.hash(realRoot, relative(realRoot, abs)));
		return entry && "sha256" in entry ? entry.sha256 : undefined;
	}

	/** The remembered digest of a file that has not changed since, most recently used last. */
	private recall(abs: string, s: Stats): FileEntry | undefined {
		const known = this.known.get(abs);
		if (!known || !isSame(known, s)) return undefined;
		this.known.delete(abs);
		this.known.set(abs, known);
		return { size: known.size, sha256: known.sha256, mode: s.mode & 0o777 };
	}

	private remember(abs: string, st: Stats, sha256: string): FileEntry {
		// A file changed within the last seconds may change again within its timestamps' granularity
		// (a second on some network filesystems) without its times moving: not remembered.
		if (Date.now() - Math.max(st.mtimeMs, st.ctimeMs) > recentMs) {
			this.known.set(abs, {
				dev: st.dev,
				ino: st.ino,
				size: st.size,
				mtimeMs: st.mtimeMs,
				ctimeMs: st.ctimeMs,
				sha256,
			});
			if (this.known.size > this.limit) this.known.delete(this.known.keys().next().value as string);
		}
		return { size: st.size, sha256, mode: st.mode & 0o777 };
	}

	/** Hashes a file the walk found (`name` below the real root), remembering its digest. */
	private hash(realRoot: string, name: string): Promise<FileEntry | undefined> {
		// Checks that run at once (a scatter's jobs reading one catalogue) read each file once.
		const abs = `${realRoot}/${name}`;
		const pending = this.hashing.get(abs);
		if (pending !== undefined) return pending;
		const work = (async () => {
			const digest = await digestWorkspaceFile(realRoot, name, { realRoot, isWalked: true });
			if (digest.kind !== "file" || digest.sha256 === undefined) return undefined;
			return this.remember(abs, digest.stats, digest.sha256);
		})().finally(() => this.hashing.delete(abs));
		this.hashing.set(abs, work);
		return work;
	}
}

function readlinkOrUndefined(path: string): string | undefined {
	try {
		return readlinkSync(path);
	} catch {
		return undefined;
	}
}

/**
 * A small untrusted file read whole with direct system calls (never through a link, never a FIFO);
 * undefined when it is not a regular file within `place`, or has grown past the small size meanwhile.
 */
function readSmallFile(abs: string, place: UntrustedFileOptions): { bytes: Buffer; stats: Stats } | undefined {
	const opened = openUntrustedFileSync(abs, place);
	if (!("fd" in opened)) return undefined;
	try {
		const { size } = opened.stats;
		if (size > smallFileBytes) return undefined;
		const bytes = Buffer.allocUnsafe(size);
		let at = 0;
		while (at < size) {
			const n = readSync(opened.fd, bytes, at, size - at, at);
			if (n === 0) break;
			at += n;
		}
		return { bytes: at === size ? bytes : bytes.subarray(0, at), stats: opened.stats };
	} finally {
		closeSync(opened.fd);
	}
}

function isSame(known: Remembered, s: Stats): boolean {
	return (
		known.dev === s.dev &&
		known.ino === s.ino &&
		known.size === s.size &&
		known.mtimeMs === s.mtimeMs &&
		known.ctimeMs === s.ctimeMs
	);
}

/** Each entry as JSON, one per line, in path order: what a manifest is reduced to for a cache key. */
export function manifestDigest(manifest: Manifest): string {
	const hash = createHash("sha256");
	for (const [path, entry] of manifest) hash.update(`${JSON.stringify([path, entry])}\n`);
	return hash.digest("hex");
}

/** What a job changed: every path that is new or different after it, and every path it removed. */
export function changesBetween(before: Manifest, after: Manifest): WorkspaceChanges {
	const written: Record<string, ManifestEntry> = {};
	for (const [path, entry] of after) {
		const was = before.get(path);
		if (!was || !sameEntry(was, entry)) written[path] = entry;
	}
	const removed = [...before.keys()].filter((p) => !after.has(p));
	return { written, removed };
}

function sameEntry(a: ManifestEntry, b: ManifestEntry): boolean {
	if ("link" in a || "link" in b) return "link" in a && "link" in b && a.link === b.link;
	if ("dir" in a || "dir" in b) return "dir" in a && "dir" in b;
	return a.size === b.size && a.sha256 === b.sha256 && a.mode === b.mode;
}

/** What applying another workspace's changes did. */
export interface AppliedChanges {
	/** Files copied (those the target already held unchanged are not). */
	copied: number;
	bytes: number;
}

/** A folder of a workspace: the workspace's path and the folder's, relative to it ("" for the workspace). */
export interface WorkspaceFolder {
	workspace: string;
	folder: string;
}

/**
 * Makes a folder of a workspace hold what a job wrote into a folder of another (or the same) workspace,
 * and lose what it removed, as if the job had run there. Every file is first copied into a staging
 * folder beside the workspace (out of reach of the workspace's jobs) and checked against its recorded
 * SHA-256, reading only files that lie in the source workspace; only when all match are they moved
 * into place, through folders held open (`HeldFolder`): a link or a rename on the way, made by a process
 * that writes the workspace meanwhile, cannot send a file elsewhere. Undefined (and the target
 * unchanged) when the source no longer holds what was recorded, or a folder stands where a file goes.
 * `current` is the target folder's manifest.
 */
export async function applyChanges(
	target: WorkspaceFolder,
	source: WorkspaceFolder,
	changes: WorkspaceChanges,
	current: Manifest,
): Promise<AppliedChanges | undefined> {
	const realTarget = await realpath(target.workspace);
	const realSourceWorkspace = await realpath(source.workspace).catch(() => undefined);
	const realSource = await realpath(join(source.workspace, source.folder)).catch(() => undefined);
	const toPlace = Object.entries(changes.written).filter(([path, entry]) => {
		const has = current.get(path);
		return !(has && sameEntry(has, entry));
	});
	if (toPlace.some(([path]) => !isPlainPath(path)) || changes.removed.some((p) => !isPlainPath(p))) return undefined;
	const files = toPlace.filter(([, e]) => "sha256" in e) as Array<[string, FileEntry]>;
	// The source must be where it was recorded: not led elsewhere by a link put in its place since.
	const isSourceHere =
		realSource !== undefined &&
		realSourceWorkspace !== undefined &&
		realSource === join(realSourceWorkspace, source.folder);
	if (files.length > 0 && !isSourceHere) return undefined;
	const inTarget = (path: string) => posix.join(target.folder, path);
	const held = new Map<string, HeldFolder>();
	const folderOf = async (dir: string, create: boolean) => {
		let folder = held.get(dir);
		if (!folder) {
			folder = await HeldFolder.open(realTarget, dir, create);
			held.set(dir, folder);
		}
		return folder;
	};
	const stagingName = `.orrery-cache-in-${randomUUID()}`;
	const staging = join(dirname(realTarget), stagingName);
	let stagingFolder: HeldFolder | undefined;
	try {
		// A folder where a file or link goes: the job did not leave one, so this is no place to put its results.
		for (const [path] of toPlace) {
			const dir = posix.dirname(inTarget(path));
			const folder = await folderOf(dir === "." ? "" : dir, false).catch(() => undefined);
			const existing = folder ? lstatSync(folder.at(posix.basename(path)), { throwIfNoEntry: false }) : undefined;
			if (existing?.isDirectory() && !("dir" in (changes.written[path] as ManifestEntry))) return undefined;
		}
		for (const f of held.values()) await f.close();
		held.clear();
		await mkdir(staging, { mode: 0o700 });
		stagingFolder = await HeldFolder.open(dirname(realTarget), stagingName, false);
		const place = {
			within: realSourceWorkspace as string,
			except: join(realSourceWorkspace as string, internalDir),
		};
		let bytes = 0;
		for (const [i, [path, entry]] of files.entries()) {
			const from = `${realSource}/${path}`;
			const into = stagingFolder.at(`${i}`);
			const isCopied =
				entry.size <= smallFileBytes
					? copySmallChecked(from, place, into, entry)
					: await copyLargeChecked(from, place, into, entry);
			if (!isCopied) return undefined;
			bytes += entry.size;
			if (i % smallFileSlice === smallFileSlice - 1) await new Promise<void>((resume) => setImmediate(resume));
		}
		// All checked: into place (folders first, parents before children: paths are in order).
		const index = new Map(files.map(([path], i) => [path, i]));
		for (const [n, [path, entry]] of toPlace.entries()) {
			if (n % smallFileSlice === smallFileSlice - 1) await new Promise<void>((resume) => setImmediate(resume));
			if ("dir" in entry) {
				await folderOf(inTarget(path), true);
				continue;
			}
			const dir = posix.dirname(inTarget(path));
			const folder = await folderOf(dir === "." ? "" : dir, true);
			const at = folder.at(posix.basename(path));
			if ("link" in entry) {
				const existing = lstatSync(at, { throwIfNoEntry: false });
				if (existing && !existing.isDirectory()) unlinkSync(at);
				symlinkSync(entry.link, at);
			} else renameSync(stagingFolder.at(`${index.get(path)}`), at);
		}
		for (const path of changes.removed) {
			const dir = posix.dirname(inTarget(path));
			const folder = await folderOf(dir === "." ? "" : dir, false).catch(() => undefined);
			if (!folder) continue;
			const at = folder.at(posix.basename(path));
			const existing = lstatSync(at, { throwIfNoEntry: false });
			if (existing && !existing.isDirectory()) unlinkSync(at);
		}
		return { copied: files.length, bytes };
	} finally {
		for (const f of held.values()) await f.close();
		await stagingFolder?.close();
		await rm(staging, { recursive: true, force: true });
	}
}

/** A path as a manifest records it: relative, no `..`, not in Orrery's own folder. */
function isPlainPath(path: string): boolean {
	const parts = path.split("/");
	return (
		path !== "" &&
		!path.startsWith("/") &&
		!parts.some((p) => p === ".." || p === "." || p === "") &&
		parts[0] !== internalDir
	);
}

/** Creates a staged file anew (never through a link), with the recorded permission bits. */
function createStaged(path: string, entry: FileEntry): number {
	const flags = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;
	return openSync(path, flags, (entry.mode ?? 0o644) & 0o777);
}

/** Copies one small file of the source workspace into the staging folder; false unless it has the recorded content. */
function copySmallChecked(abs: string, place: UntrustedFileOptions, into: string, entry: FileEntry): boolean {
	const read = readSmallFile(abs, place);
	if (!read || read.bytes.length !== entry.size) return false;
	if (createHash("sha256").update(read.bytes).digest("hex") !== entry.sha256) return false;
	const fd = createStaged(into, entry);
	try {
		let at = 0;
		while (at < read.bytes.length) at += writeSync(fd, read.bytes, at, read.bytes.length - at);
		if (entry.mode !== undefined) fchmodSync(fd, entry.mode & 0o777);
	} finally {
		closeSync(fd);
	}
	return true;
}

/** Copies one large file of the source workspace into the staging folder, streamed; false unless it has the recorded content. */
async function copyLargeChecked(
	abs: string,
	place: UntrustedFileOptions,
	into: string,
	entry: FileEntry,
): Promise<boolean> {
	const opened = await openUntrustedFile(abs, place);
	if (!("fd" in opened)) return false;
	if (opened.stats.size !== entry.size) {
		closeSync(opened.fd);
		return false;
	}
	const hash = createHash("sha256");
	// Only the bytes the file had when it was opened: one that keeps growing is not read for ever.
	const input = createReadStream("", {
		fd: opened.fd,
		start: 0,
		end: Math.max(0, entry.size - 1),
		highWaterMark: 1024 * 1024,
	});
	input.on("data", (chunk) => hash.update(chunk as Buffer));
	const fd = createStaged(into, entry);
	if (entry.mode !== undefined) fchmodSync(fd, entry.mode & 0o777);
	await pipeline(input, createWriteStream("", { fd }));
	return hash.digest("hex") === entry.sha256;
}

/**
 * Copies files of one job's folder (a cached job's logs) into another's. Both are folders of
 * workspaces (`from` a job folder of the run reused, `to` one of the run reusing it), where jobs may
 * have left links: the files read must lie in their workspace, and those written are created anew in
 * the folder held open (`HeldFolder`), never through a link.
 */
export async function copyJobFiles(
	from: WorkspaceFolder,
	to: WorkspaceFolder,
	names: readonly string[],
): Promise<void> {
	const realFrom = await realpath(from.workspace).catch(() => undefined);
	if (realFrom === undefined) return;
	const folder = await HeldFolder.open(await realpath(to.workspace), to.folder, true);
	try {
		for (const name of names) {
			const opened = await openUntrustedFile(join(realFrom, from.folder, name), { within: realFrom });
			if (!("fd" in opened)) continue;
			const input = createReadStream("", { fd: opened.fd });
			let fd: number;
			try {
				fd = openSync(
					folder.at(name),
					constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW,
					0o644,
				);
			} catch (error) {
				input.destroy();
				if ((error as NodeJS.ErrnoException).code === "EEXIST") continue; // copied before a restart
				throw error;
			}
			await pipeline(input, createWriteStream("", { fd }));
		}
	} finally {
		await folder.close();
	}
}
