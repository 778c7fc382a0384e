import { createHash } from "node:crypto";
import {
	close,
	closeSync,
	type Dirent,
	read,
	readdirSync,
	readSync,
	realpathSync,
	type Stats,
	statfsSync,
	statSync,
} from "node:fs";
import { readdir, realpath, stat } from "node:fs/promises";
import { join, relative } from "node:path";
import { promisify } from "node:util";
import {
	AppError,
	openUntrustedFile,
	openUntrustedFileSync,
	type UntrustedFile,
	type UntrustedFileOptions,
} from "../common/index.js";
import { internalDir, isInside, UnsafePathError } from "./workspace-path.js";

/** What an engine needs to know about a path. */
export interface PathInfo {
	isDirectory: boolean;
	size: number;
}

/**
 * Read-only access to the files of one workspace, by absolute path, for engines that collect outputs
 * (CWL). Every path is checked first: a path (or a symlink) that leaves the workspace is refused.
 */
export interface WorkspaceFiles {
	readonly root: string;
	stat(path: string): Promise<PathInfo | undefined>;
	readText(path: string): Promise<string>;
	/** The first `bytes` bytes and whether the file is longer. */
	readHead(path: string, bytes: number): Promise<{ text: string; isTruncated: boolean }>;
	sha1(path: string): Promise<string>;
	list(dir: string): Promise<Array<{ name: string; isDirectory: boolean }>>;
	/**
	 * A view for one short task (collecting the outputs of an ended job) that checks and stats each
	 * path once: the collection asks for the same few paths several times (a glob, its match, the
	 * value, its checksum), and each check follows the whole path.
	 */
	once(): WorkspaceFiles;
}

/**
 * Filesystems (statfs magic numbers) on a disk of this machine, where a file operation takes
 * microseconds: ext2/3/4, XFS, Btrfs, tmpfs, ZFS, overlayfs, F2FS, ramfs. Anything else (NFS,
 * Lustre, GPFS, CephFS, FUSE…) may stall for as long as its servers take.
 */
const localFilesystems = new Set([
	0xef53, 0x58465342, 0x9123683e, 0x01021994, 0x2fc12fc1, 0x794c7630, 0xf2f52010, 0x858458f6,
]);

const localCache = new Map<string, boolean>();

/** True when a folder is on a filesystem of this machine's own disks (the answer is kept per folder). */
export function isOnLocalDisk(path: string): boolean {
	let known = localCache.get(path);
	if (known === undefined) {
		try {
			known = localFilesystems.has(statfsSync(path).type);
		} catch {
			known = false;
		}
		if (localCache.size > 1000) localCache.clear();
		localCache.set(path, known);
	}
	return known;
}

/** The file operations the reader uses, done through the thread pool or at once. */
interface ReaderFs {
	realpath(path: string): Promise<string>;
	stat(path: string): Promise<Stats>;
	readdir(path: string): Promise<Dirent[]>;
	/** Opens a file a tool may have swapped since it was checked (`openUntrustedFile`). */
	openUntrusted(path: string, options: UntrustedFileOptions): Promise<UntrustedFile>;
	/** Reads into all of `buffer` from `position`; the bytes read. */
	read(fd: number, buffer: Buffer, position: number): Promise<number>;
	close(fd: number): Promise<void>;
}

const readAt = promisify(read);
const threadPool: ReaderFs = {
	realpath: (p) => realpath(p),
	stat: (p) => stat(p),
	readdir: (p) => readdir(p, { withFileTypes: true }),
	openUntrusted: (p, options) => openUntrustedFile(p, options),
	read: async (fd, buffer, position) => (await readAt(fd, buffer, 0, buffer.length, position)).bytesRead,
	close: (fd) => promisify(close)(fd),
};

const inline: ReaderFs = {
	realpath: async (p) => realpathSync.native(p),
	stat: async (p) => statSync(p),
	readdir: async (p) => readdirSync(p, { withFileTypes: true }),
	openUntrusted: async (p, options) => openUntrustedFileSync(p, options),
	read: async (fd, buffer, position) => readSync(fd, buffer, 0, buffer.length, position),
	close: async (fd) => closeSync(fd),
};

/**
 * The workspace files of a run. On a local disk (`isOnLocalDisk`) the file operations are done at
 * once: each is a few microseconds there, and a trip through the thread pool, waiting behind the
 * jobs for a CPU, cost milliseconds per collected job. Elsewhere they go through the thread pool.
 */
export function workspaceFiles(root: string, options: { isLocalDisk?: boolean } = {}): WorkspaceFiles {
	const fs = (options.isLocalDisk ?? isOnLocalDisk(root)) ? inline : threadPool;
	return reader(root, fs, { realRoot: undefined });
}

/** The answer kept for `key`, asked for the first time. */
function once<T>(known: Map<string, Promise<T>>, key: string, ask: (key: string) => Promise<T>): Promise<T> {
	let answer = known.get(key);
	if (!answer) {
		answer = ask(key);
		known.set(key, answer);
	}
	return answer;
}

function reader(
	root: string,
	fs: ReaderFs,
	shared: { realRoot: Promise<string> | undefined },
	memo?: { checked: Map<string, Promise<string>>; stats: Map<string, Promise<Stats>> },
): WorkspaceFiles {
	// One realpath per access (per path, in a view for one task): it follows every symlink, so a link a
	// tool made that leads out of the workspace (or into Orrery's own folder) is refused like a path that does.
	const check = (path: string): Promise<string> => (memo ? once(memo.checked, path, checkNow) : checkNow(path));
	const statOf = (real: string): Promise<Stats> => (memo ? once(memo.stats, real, fs.stat) : fs.stat(real));
	const checkNow = async (path: string): Promise<string> => {
		shared.realRoot ??= fs.realpath(root).catch(() => root);
		const rr = await shared.realRoot;
		if (!isInside(root, path) && !isInside(rr, path)) {
			throw new AppError(
				"validation_failed",
				`${path} is outside the workflow's workspace; inputs must be files in the workspace`,
			);
		}
		const real = await fs.realpath(path);
		if (!isInside(rr, real) || isInside(join(rr, internalDir), real)) {
			throw new UnsafePathError(relative(rr, real) || path, "it leads outside the workspace through a symbolic link");
		}
		return real;
	};
	/**
	 * A checked path opened for reading. The check (remembered in a view) was made by path, and a tool
	 * may have swapped the file or a folder on the way for a link since: the file is opened without
	 * following a link as its last part, and the descriptor itself must be a regular file in the
	 * workspace (where /proc says it is, or else the same file as the checked path) before a byte is read.
	 */
	const openChecked = async (path: string): Promise<{ fd: number; size: number }> => {
		const real = await check(path);
		const rr = await (shared.realRoot as Promise<string>);
		const opened = await fs.openUntrusted(real, { within: rr, except: join(rr, internalDir) });
		if ("fd" in opened) return { fd: opened.fd, size: opened.stats.size };
		const shown = relative(rr, real) || path;
		switch (opened.refused) {
			case "missing":
				throw opened.error;
			case "link":
				throw new UnsafePathError(shown, "it was replaced by a symbolic link");
			case "not_regular":
				throw notRegular(shown);
			case "outside":
				throw new UnsafePathError(shown, "it leads outside the workspace through a symbolic link");
		}
	};
	/** Reads a checked file from its descriptor: `bytes` from the start, the whole file when undefined. */
	const readChecked = async (path: string, bytes?: number): Promise<{ data: Buffer; size: number }> => {
		const { fd, size } = await openChecked(path);
		try {
			const data = Buffer.alloc(bytes ?? size);
			let filled = 0;
			while (filled < data.length) {
				const n = await fs.read(fd, data.subarray(filled), filled);
				if (n === 0) break;
				filled += n;
			}
			return { data: data.subarray(0, filled), size };
		} finally {
			await fs.close(fd);
		}
	};
	return {
		root,
		async stat(path) {
			try {
				const s = await statOf(await check(path));
				return { isDirectory: s.isDirectory(), size: s.size };
			} catch (error) {
				if ((error as NodeJS.ErrnoException).code === "ENOENT" || (error as NodeJS.ErrnoException).code === "ENOTDIR")
					return undefined;
				throw error;
			}
		},
		async readText(path) {
			return (await readChecked(path)).data.toString("utf8");
		},
		async readHead(path, bytes) {
			const { data } = await readChecked(path, bytes + 1);
			return {
				text: data.subarray(0, Math.min(data.length, bytes)).toString("utf8"),
				isTruncated: data.length > bytes,
			};
		},
		async sha1(path) {
			const hash = createHash("sha1");
			const { fd, size } = await openChecked(path);
			try {
				// Small files in one read; large ones in chunks through the thread pool, never whole in memory.
				const chunk = Buffer.alloc(Math.min(size, 1024 * 1024) || 1);
				const readOne = size <= chunk.length ? fs.read : threadPool.read;
				for (let at = 0; ; ) {
					const n = await readOne(fd, chunk, at);
					if (n === 0) break;
					hash.update(chunk.subarray(0, n));
					at += n;
				}
				return hash.digest("hex");
			} finally {
				await fs.close(fd);
			}
		},
		async list(dir) {
			const entries = await fs.readdir(await check(dir));
			const out: Array<{ name: string; isDirectory: boolean }> = [];
			for (const e of entries) {
				let isDirectory = e.isDirectory();
				if (e.isSymbolicLink()) {
					const target = await check(`${dir}/${e.name}`).catch(() => undefined);
					isDirectory = target ? ((await fs.stat(target).catch(() => undefined))?.isDirectory() ?? false) : false;
				}
				out.push({ name: e.name, isDirectory });
			}
			return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
		},
		once() {
			return reader(root, fs, shared, { checked: new Map(), stats: new Map() });
		},
	};
}

function notRegular(path: string): AppError {
	return new AppError(
		"validation_failed",
		`'${path}' is not a regular file (a folder, FIFO, socket or device); only regular files are read`,
	);
}
