import { createHash } from "node:crypto";
import {
	closeSync,
	createReadStream,
	createWriteStream,
	lstatSync,
	readlinkSync,
	readSync,
	type Stats,
	writeSync,
} from "node:fs";
import { mkdir, mkdtemp, realpath, rename, rm, symlink, unlink } from "node:fs/promises";
import { dirname, join, posix, relative } from "node:path";
import { pipeline } from "node:stream/promises";
import { createFileIn } from "../archive/index.js";
import {
	AppError,
	liesWithin,
	openUntrustedFile,
	openUntrustedFileSync,
	type UntrustedFileOptions,
} from "../common/index.js";
import { digestWorkspaceFile } from "./file-digest.js";
import { runPool } from "./staging/transfer-pool.js";
import { walkFiles } from "./workspace-files.js";
import { internalDir, isInside, locateInWorkspace, resolveInWorkspace } from "./workspace-path.js";

/** What a workspace holds at one path: a file (its size and SHA-256) or a symbolic link (its target). */
export type ManifestEntry = { size: number; sha256: string } | { link: string };

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

/**
 * The SHA-256 of workspace files, remembered while the file stays as it was (same inode, size,
 * modification and change time: a change time cannot be set back by its owner), so that scanning a
 * workspace again reads only the files that changed since. Bounded: the oldest are forgotten first.
 */
export class FileDigests {
	private readonly known = new Map<string, Remembered>();

	constructor(private readonly limit = 200_000) {}

	/** A workspace's manifest; files that vanish while it is made are left out. */
	async scan(root: string, signal: AbortSignal = new AbortController().signal): Promise<Manifest> {
		const realRoot = await realpath(root);
		const manifest: Manifest = new Map();
		const large: string[] = [];
		let handled = 0;
		for await (const e of walkFiles(root, "", false, true)) {
			const abs = `${realRoot}/${e.name}`;
			if (e.isLink) {
				const target = readlinkOrUndefined(abs);
				if (target !== undefined) manifest.set(e.name, { link: target });
				continue;
			}
			const s = lstatSync(abs, { throwIfNoEntry: false });
			if (!s?.isFile()) continue;
			const known = this.recall(abs, s);
			if (known) manifest.set(e.name, known);
			else if (s.size > smallFileBytes) large.push(e.name);
			else {
				const entry = await this.hash(realRoot, e.name);
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
				const entry = await this.hash(realRoot, name);
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
		if (s.isDirectory()) return manifestDigest(await this.scan(abs));
		if (!s.isFile()) return undefined;
		const entry = this.recall(abs, s) ?? (await this.hash(realRoot, relative(realRoot, abs)));
		return entry && "sha256" in entry ? entry.sha256 : undefined;
	}

	/** The remembered digest of a file that has not changed since, most recently used last. */
	private recall(abs: string, s: Stats): ManifestEntry | undefined {
		const known = this.known.get(abs);
		if (!known || !isSame(known, s)) return undefined;
		this.known.delete(abs);
		this.known.set(abs, known);
		return { size: known.size, sha256: known.sha256 };
	}

	private remember(abs: string, st: Stats, sha256: string): ManifestEntry {
		this.known.set(abs, { dev: st.dev, ino: st.ino, size: st.size, mtimeMs: st.mtimeMs, ctimeMs: st.ctimeMs, sha256 });
		if (this.known.size > this.limit) this.known.delete(this.known.keys().next().value as string);
		return { size: st.size, sha256 };
	}

	/** Hashes a file the walk found (`name` below the real root), remembering its digest. */
	private async hash(realRoot: string, name: string): Promise<ManifestEntry | undefined> {
		const digest = await digestWorkspaceFile(realRoot, name, { realRoot, isWalked: true });
		if (digest.kind !== "file" || digest.sha256 === undefined) return undefined;
		return this.remember(`${realRoot}/${name}`, digest.stats, digest.sha256);
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

/** One line per entry, in path order: what a manifest is reduced to for a cache key. */
export function manifestDigest(manifest: Manifest): string {
	const hash = createHash("sha256");
	for (const [path, entry] of manifest) {
		hash.update(path);
		hash.update("\0");
		hash.update("link" in entry ? `->${entry.link}` : `${entry.size}:${entry.sha256}`);
		hash.update("\n");
	}
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
	return a.size === b.size && a.sha256 === b.sha256;
}

/** What applying another workspace's changes did. */
export interface AppliedChanges {
	/** Files copied (those the target already held unchanged are not). */
	copied: number;
	bytes: number;
}

/**
 * Makes `target` hold what a job wrote into `source` (and lose what it removed), as if the job had run
 * in `target`. Every file is first copied into a folder of Orrery's in the target and checked against
 * its recorded SHA-256; only when all match are they moved into place. Undefined (and the target
 * unchanged) when the source no longer holds what was recorded. `current` is the target's manifest.
 */
export async function applyChanges(
	target: string,
	source: string,
	changes: WorkspaceChanges,
	current: Manifest,
	stagingParent?: string,
): Promise<AppliedChanges | undefined> {
	const realTarget = await realpath(target);
	const realSource = await realpath(source).catch(() => undefined);
	const toCopy = Object.entries(changes.written).filter(([path, entry]) => {
		const has = current.get(path);
		return !(has && sameEntry(has, entry));
	});
	if (toCopy.some(([path]) => !isPlainPath(path)) || changes.removed.some((p) => !isPlainPath(p))) return undefined;
	const files = toCopy.filter(([, e]) => !("link" in e)) as Array<[string, { size: number; sha256: string }]>;
	if (files.length > 0 && realSource === undefined) return undefined;
	const ownDir = stagingParent ?? join(realTarget, internalDir);
	await mkdir(ownDir, { recursive: true });
	const staging = await mkdtemp(join(ownDir, "cache-in-"));
	try {
		const folder = { path: staging, real: await realpath(staging) };
		const place = { within: realSource as string, except: join(realSource as string, internalDir) };
		let bytes = 0;
		const staged = new Map<string, string>();
		for (const [i, [path, entry]] of files.entries()) {
			const copied =
				entry.size <= smallFileBytes
					? copySmallChecked(`${realSource}/${path}`, place, folder, `${i}`, entry)
					: await copyLargeChecked(`${realSource}/${path}`, place, folder, `${i}`, entry);
			if (!copied) return undefined;
			staged.set(path, join(staging, `${i}`));
			bytes += entry.size;
			if (i % smallFileSlice === smallFileSlice - 1) await new Promise<void>((resume) => setImmediate(resume));
		}
		// All checked: into place. Each folder is resolved once inside the target (never through a link
		// out of it; nothing else writes into the workspace while a job's results are put in place).
		const folders = new Map<string, string>();
		const folderOf = async (dir: string) => {
			let real = folders.get(dir);
			if (real === undefined) {
				real = await resolveInWorkspace(target, dir === "." ? "" : dir);
				await mkdir(real, { recursive: true });
				if (!isInside(realTarget, await realpath(real)))
					throw new AppError("validation_failed", `the folder '${dir}' leads outside the workspace`);
				folders.set(dir, real);
			}
			return real;
		};
		for (const [path, entry] of toCopy) {
			const dir = posix.dirname(path);
			const at = join(await folderOf(dir), posix.basename(path));
			const existing = lstatSync(at, { throwIfNoEntry: false });
			if (existing?.isDirectory()) await rm(at, { recursive: true, force: true });
			if ("link" in entry) {
				if (existing && !existing.isDirectory()) await unlink(at);
				await symlink(entry.link, at);
			} else await rename(staged.get(path) as string, at);
		}
		for (const path of changes.removed) {
			const at = await locateInWorkspace(target, path).catch(() => undefined);
			const existing = at === undefined ? undefined : lstatSync(at, { throwIfNoEntry: false });
			if (at !== undefined && existing && !existing.isDirectory()) await unlink(at);
		}
		return { copied: files.length, bytes };
	} finally {
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

/** Copies one small file of the source workspace into the staging folder; false unless it has the recorded content. */
function copySmallChecked(
	abs: string,
	place: UntrustedFileOptions,
	folder: { path: string; real: string },
	base: string,
	entry: { size: number; sha256: string },
): boolean {
	const read = readSmallFile(abs, place);
	if (!read || read.bytes.length !== entry.size) return false;
	if (createHash("sha256").update(read.bytes).digest("hex") !== entry.sha256) return false;
	const fd = createFileIn(folder, base, base);
	try {
		let at = 0;
		while (at < read.bytes.length) at += writeSync(fd, read.bytes, at, read.bytes.length - at);
	} finally {
		closeSync(fd);
	}
	return true;
}

/** Copies one large file of the source workspace into the staging folder, streamed; false unless it has the recorded content. */
async function copyLargeChecked(
	abs: string,
	place: UntrustedFileOptions,
	folder: { path: string; real: string },
	base: string,
	entry: { size: number; sha256: string },
): Promise<boolean> {
	const opened = await openUntrustedFile(abs, place);
	if (!("fd" in opened)) return false;
	if (opened.stats.size !== entry.size) {
		closeSync(opened.fd);
		return false;
	}
	const hash = createHash("sha256");
	const input = createReadStream("", { fd: opened.fd, highWaterMark: 1024 * 1024 });
	input.on("data", (chunk) => hash.update(chunk as Buffer));
	await pipeline(input, createWriteStream("", { fd: createFileIn(folder, base, base) }));
	return hash.digest("hex") === entry.sha256;
}

/**
 * Makes a folder of a workspace (a path relative to it; Orrery's own folder allowed) and answers its
 * real path. Earlier jobs may have left links on the way: the folder must really lie in the
 * workspace, checked before it is made (nothing is made through a link out) and after.
 */
export async function makeFolderIn(workspace: string, folder: string): Promise<string> {
	const realWorkspace = await realpath(workspace);
	const path = join(workspace, folder);
	const refuse = () => new AppError("validation_failed", `the folder '${folder}' leads outside the workspace`);
	if (!isInside(workspace, path)) throw refuse();
	let probe = path;
	while (!lstatSync(probe, { throwIfNoEntry: false })) probe = dirname(probe);
	if (!liesWithin(realWorkspace, await realpath(probe))) throw refuse();
	await mkdir(path, { recursive: true });
	const real = await realpath(path);
	if (!liesWithin(realWorkspace, real)) throw refuse();
	return real;
}

/**
 * Copies files of one job's folder (a cached job's logs) into another's, in the workspace `workspace`. That folder is in
 * the workspace, where earlier jobs may have left links: it must really lie in the workspace (checked
 * before it is made and after), and the files are created anew, never through a link.
 */
export async function copyJobFiles(
	fromDir: string,
	workspace: string,
	toDir: string,
	names: readonly string[],
): Promise<void> {
	const real = await makeFolderIn(workspace, relative(workspace, toDir)).catch(() => undefined);
	if (real === undefined) return;
	const folder = { path: toDir, real };
	const realFrom = await realpath(fromDir).catch(() => undefined);
	if (realFrom === undefined) return;
	for (const name of names) {
		const opened = await openUntrustedFile(join(realFrom, name), { within: realFrom });
		if (!("fd" in opened)) continue;
		const input = createReadStream("", { fd: opened.fd });
		let fd: number;
		try {
			fd = createFileIn(folder, name, name);
		} catch (error) {
			input.destroy();
			if ((error as NodeJS.ErrnoException).code === "EEXIST") continue; // copied before a restart
			throw error;
		}
		await pipeline(input, createWriteStream("", { fd }));
	}
}
