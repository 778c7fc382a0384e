import { createHash } from "node:crypto";
import { closeSync, createReadStream, createWriteStream, type Stats } from "node:fs";
import { lstat, mkdir, mkdtemp, readlink, realpath, rename, rm, symlink, unlink } from "node:fs/promises";
import { dirname, join, posix } from "node:path";
import { pipeline } from "node:stream/promises";
import { createFileIn } from "../archive/index.js";
import { liesWithin, openUntrustedFile } from "../common/index.js";
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

/** Files hashed at once while scanning. */
const hashConcurrency = 4;

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
		const files: string[] = [];
		for await (const e of walkFiles(root, "", false, true)) {
			if (e.isLink) {
				const target = await readlink(join(realRoot, e.name)).catch(() => undefined);
				if (target !== undefined) manifest.set(e.name, { link: target });
			} else files.push(e.name);
		}
		await runPool(
			files,
			hashConcurrency,
			async (name) => {
				const entry = await this.digest(realRoot, name);
				if (entry) manifest.set(name, entry);
			},
			signal,
		);
		return new Map([...manifest].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
	}

	private async digest(realRoot: string, name: string): Promise<ManifestEntry | undefined> {
		const abs = join(realRoot, name);
		const s = await lstat(abs).catch(() => undefined);
		if (!s?.isFile()) return undefined;
		const known = this.known.get(abs);
		if (known && isSame(known, s)) {
			// Most recently used last: the map's order is what is forgotten first.
			this.known.delete(abs);
			this.known.set(abs, known);
			return { size: known.size, sha256: known.sha256 };
		}
		const opened = await openUntrustedFile(abs, { within: realRoot, except: join(realRoot, internalDir) });
		if (!("fd" in opened)) return undefined;
		const hash = createHash("sha256");
		const stream = createReadStream("", { fd: opened.fd, highWaterMark: 1024 * 1024 });
		try {
			for await (const chunk of stream) hash.update(chunk as Buffer);
		} finally {
			stream.destroy();
		}
		const sha256 = hash.digest("hex");
		const st = opened.stats;
		this.known.set(abs, {
			dev: st.dev,
			ino: st.ino,
			size: st.size,
			mtimeMs: st.mtimeMs,
			ctimeMs: st.ctimeMs,
			sha256,
		});
		if (this.known.size > this.limit) this.known.delete(this.known.keys().next().value as string);
		return { size: st.size, sha256 };
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
	const ownDir = join(realTarget, internalDir);
	await mkdir(ownDir, { recursive: true });
	const staging = await mkdtemp(join(ownDir, "cache-in-"));
	try {
		const folder = { path: staging, real: await realpath(staging) };
		let bytes = 0;
		const staged = new Map<string, string>();
		for (const [i, [path, entry]] of files.entries()) {
			const copied = await copyChecked(realSource as string, path, folder, `${i}`, entry);
			if (!copied) return undefined;
			staged.set(path, join(staging, `${i}`));
			bytes += entry.size;
		}
		// All checked: into place, each folder resolved inside the target (never through a link out of it).
		for (const [path, entry] of toCopy) {
			const dir = posix.dirname(path);
			const realDir = await resolveInWorkspace(target, dir === "." ? "" : dir);
			await mkdir(realDir, { recursive: true });
			const place = await locateInWorkspace(target, path);
			const existing = await lstat(place).catch(() => undefined);
			if (existing?.isDirectory()) await rm(place, { recursive: true, force: true });
			if ("link" in entry) {
				if (existing && !existing.isDirectory()) await unlink(place);
				await symlink(entry.link, place);
			} else await rename(staged.get(path) as string, place);
		}
		for (const path of changes.removed) {
			const place = await locateInWorkspace(target, path).catch(() => undefined);
			const existing = place === undefined ? undefined : await lstat(place).catch(() => undefined);
			if (place !== undefined && existing && !existing.isDirectory()) await unlink(place);
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

/** Copies one file of the source workspace into the staging folder; false unless it has the recorded content. */
async function copyChecked(
	realSource: string,
	path: string,
	folder: { path: string; real: string },
	base: string,
	entry: { size: number; sha256: string },
): Promise<boolean> {
	const abs = join(realSource, path);
	if (!isInside(realSource, abs)) return false;
	const opened = await openUntrustedFile(abs, { within: realSource, except: join(realSource, internalDir) });
	if (!("fd" in opened)) return false;
	if (opened.stats.size !== entry.size) {
		closeSync(opened.fd);
		return false;
	}
	const hash = createHash("sha256");
	const input = createReadStream("", { fd: opened.fd, highWaterMark: 1024 * 1024 });
	input.on("data", (chunk) => hash.update(chunk as Buffer));
	const out = createWriteStream("", { fd: createFileIn(folder, base, path) });
	await pipeline(input, out);
	return hash.digest("hex") === entry.sha256;
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
	const realWorkspace = await realpath(workspace);
	const isInWorkspace = async (path: string) => {
		let probe = path;
		while (
			!(await lstat(probe).then(
				() => true,
				() => false,
			))
		)
			probe = dirname(probe);
		return liesWithin(realWorkspace, await realpath(probe));
	};
	if (!(await isInWorkspace(toDir))) return;
	await mkdir(toDir, { recursive: true });
	const folder = { path: toDir, real: await realpath(toDir) };
	if (!liesWithin(realWorkspace, folder.real)) return;
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
