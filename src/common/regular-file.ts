import {
	close,
	closeSync,
	constants,
	fstat,
	fstatSync,
	lstatSync,
	open as openFd,
	openSync,
	readlinkSync,
	readSync,
	realpathSync,
	type Stats,
} from "node:fs";
import { type FileHandle, lstat, open, readlink, realpath } from "node:fs/promises";
import { isAbsolute, relative, sep } from "node:path";
import { promisify } from "node:util";

/**
 * Opening a file that someone else's code may have put there (a job's folder, a workspace): never
 * through a symbolic link as its last part, and never waiting on a FIFO or a device for a writer.
 */
const untrustedFlags = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;

/** True when `path` is `folder` or lies below it (both absolute and real). */
export function liesWithin(folder: string, path: string): boolean {
	const rel = relative(folder, path);
	return rel === "" || (rel !== ".." && !rel.startsWith(`..${sep}`) && !isAbsolute(rel));
}

/** Where `openUntrustedFile` must find the file, checked on the descriptor (real paths). */
export interface UntrustedFileOptions {
	/** The folder the file must lie within; not checked when absent. */
	within?: string;
	/** A folder below `within` that does not count as within (Orrery's own folder in a workspace). */
	except?: string;
}

/**
 * Why `openUntrustedFile` refused a file: nothing there (or a file where a folder was), a symbolic link
 * in its place, no regular file (a folder, FIFO, socket or device), or a file outside `within`.
 */
export type UntrustedFileRefusal = "missing" | "link" | "not_regular" | "outside";

/** An untrusted file opened (its descriptor and what fstat says), or why not (with the open's error, if it failed). */
export type UntrustedFile<D = number> =
	| { fd: D; stats: Stats }
	| { refused: "missing"; error: NodeJS.ErrnoException }
	| { refused: Exclude<UntrustedFileRefusal, "missing">; error?: NodeJS.ErrnoException };

/** The system calls opening makes, on descriptors of type `D`. */
interface OpenCalls<D> {
	open(path: string): D;
	fstat(fd: D): Stats;
	/** Where Linux's /proc says the descriptor is; throws where there is no /proc. */
	procPath(fd: D): string;
	realpath(path: string): string;
	lstat(path: string): Stats;
	close(fd: D): void;
}

type Promised<C> = { [K in keyof C]: C[K] extends (...args: infer A) => infer R ? (...args: A) => Promise<R> : never };

/** One system call of opening, made by a driver at once or through the thread pool. */
type Step<D> = (calls: OpenCalls<D> | Promised<OpenCalls<D>>) => unknown;

/**
 * Opening an untrusted file, written once as the steps it takes: the sync callers (a local disk, the
 * file API) make each call at once, the others await it; Node has no openat(), so a swap of the file or
 * a folder on the way is caught on the opened descriptor, which is what is then read. A link in the
 * file's place is refused by the open; a FIFO, socket or device, by fstat; with `within`, a folder
 * swapped for a link to elsewhere, by where the descriptor really is. Refused, it is closed.
 */
function* opening<D>(path: string, options: UntrustedFileOptions): Generator<Step<D>, UntrustedFile<D>, unknown> {
	let fd: D;
	try {
		fd = (yield (c) => c.open(path)) as D;
	} catch (caught) {
		const error = caught as NodeJS.ErrnoException;
		const refused = refusalOfOpen(error.code);
		if (refused === undefined) throw error;
		return { refused, error };
	}
	let isKept = false;
	try {
		const stats = (yield (c) => c.fstat(fd)) as Stats;
		if (!stats.isFile()) return { refused: "not_regular" };
		if (options.within !== undefined) {
			const real = yield* placeOf(fd, path);
			const { within, except } = options;
			if (real === undefined || !liesWithin(within, real) || (except !== undefined && liesWithin(except, real)))
				return { refused: "outside" };
		}
		isKept = true;
		return { fd, stats };
	} finally {
		if (!isKept) yield (c) => c.close(fd);
	}
}

function refusalOfOpen(code: string | undefined): UntrustedFileRefusal | undefined {
	if (code === "ENOENT" || code === "ENOTDIR") return "missing";
	if (code === "ELOOP") return "link";
	if (code === "ENXIO") return "not_regular"; // a socket, or a device with nothing behind it
	return undefined;
}

/**
 * Where an open file really is, from its descriptor: Linux's /proc says; elsewhere the real path
 * of `path` counts when it is the same file (device and inode) as the descriptor.
 */
function* placeOf<D>(fd: D, path: string): Generator<Step<D>, string | undefined, unknown> {
	try {
		return (yield (c) => c.procPath(fd)) as string;
	} catch {
		// No /proc (macOS): compare the file at the path with the one open.
		const real = (yield (c) => c.realpath(path)) as string;
		const open = (yield (c) => c.fstat(fd)) as Stats;
		const there = (yield (c) => c.lstat(real)) as Stats;
		return open.dev === there.dev && open.ino === there.ino ? real : undefined;
	}
}

function runAtOnce<D, T>(steps: Generator<Step<D>, T, unknown>, calls: OpenCalls<D>): T {
	for (let step = steps.next(); ; ) {
		if (step.done) return step.value;
		let answer: unknown;
		try {
			answer = step.value(calls);
		} catch (error) {
			step = steps.throw(error);
			continue;
		}
		step = steps.next(answer);
	}
}

async function runAwaiting<D, T>(steps: Generator<Step<D>, T, unknown>, calls: Promised<OpenCalls<D>>): Promise<T> {
	for (let step = steps.next(); ; ) {
		if (step.done) return step.value;
		let answer: unknown;
		try {
			answer = await step.value(calls);
		} catch (error) {
			step = steps.throw(error);
			continue;
		}
		step = steps.next(answer);
	}
}

const atOnce: OpenCalls<number> = {
	open: (path) => openSync(path, untrustedFlags),
	fstat: (fd) => fstatSync(fd),
	procPath: (fd) => readlinkSync(`/proc/self/fd/${fd}`),
	realpath: (path) => realpathSync.native(path),
	lstat: (path) => lstatSync(path),
	close: (fd) => closeSync(fd),
};

const throughThreadPool: Promised<OpenCalls<number>> = {
	open: (path) => promisify(openFd)(path, untrustedFlags),
	fstat: (fd) => promisify(fstat)(fd),
	procPath: (fd) => readlink(`/proc/self/fd/${fd}`),
	realpath: (path) => realpath(path),
	lstat: (path) => lstat(path),
	close: (fd) => promisify(close)(fd),
};

const asHandles: Promised<OpenCalls<FileHandle>> = {
	...throughThreadPool,
	open: (path) => open(path, untrustedFlags),
	fstat: (handle) => handle.stat(),
	procPath: (handle) => readlink(`/proc/self/fd/${handle.fd}`),
	close: (handle) => handle.close(),
};

/**
 * Opens a file that a user or a job may have planted for reading, done at once (a local disk): a
 * regular file only, never through a link, never blocking on a FIFO, and with `within` only where the
 * descriptor lies within that folder (see `opening`). Other errors (permissions, descriptors) are thrown.
 */
export function openUntrustedFileSync(path: string, options: UntrustedFileOptions = {}): UntrustedFile {
	return runAtOnce(opening<number>(path, options), atOnce);
}

/** `openUntrustedFileSync` through the thread pool (a filesystem that may stall). */
export function openUntrustedFile(path: string, options: UntrustedFileOptions = {}): Promise<UntrustedFile> {
	return runAwaiting(opening<number>(path, options), throughThreadPool);
}

/** Where the file open as `fd` (by `path`) really is, from its descriptor; undefined when unknown. */
export function realPathOfSync(fd: number, path: string): string | undefined {
	return runAtOnce(placeOf(fd, path), atOnce);
}

/** A regular file opened for reading without following a link or blocking; undefined for anything else or nothing. */
export async function openRegularFile(path: string): Promise<FileHandle | undefined> {
	const opened = await runAwaiting(opening<FileHandle>(path, {}), asHandles).catch(() => undefined);
	return opened && "fd" in opened ? opened.fd : undefined;
}

/** What `readRegularFile` read: at most the bytes asked for, the file's size and modification time. */
export interface RegularFileText {
	text: string;
	size: number;
	mtime: Date;
}

/** Where a bounded read starts and how many bytes it takes. */
function rangeOf(size: number, maxBytes: number, fromEnd: boolean): { start: number; length: number } {
	const start = fromEnd ? Math.max(0, size - maxBytes) : 0;
	return { start, length: Math.min(maxBytes, size - start) };
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
	const opened = await runAwaiting(opening<FileHandle>(path, {}), asHandles).catch(() => undefined);
	if (!opened || !("fd" in opened)) return undefined;
	const { fd: handle, stats } = opened;
	try {
		const { start, length } = rangeOf(stats.size, maxBytes, fromEnd);
		const { buffer, bytesRead } = await handle.read(Buffer.alloc(length), 0, length, start);
		return { text: buffer.subarray(0, bytesRead).toString("utf8"), size: stats.size, mtime: stats.mtime };
	} catch {
		return undefined;
	} finally {
		await handle.close();
	}
}

/** `readRegularFile` done at once (a local disk), for the first `maxBytes`. */
export function readRegularFileSync(path: string, maxBytes: number): RegularFileText | undefined {
	let opened: UntrustedFile;
	try {
		opened = openUntrustedFileSync(path);
	} catch {
		return undefined;
	}
	if (!("fd" in opened)) return undefined;
	const { fd, stats } = opened;
	try {
		const { start, length } = rangeOf(stats.size, maxBytes, false);
		const buffer = Buffer.alloc(length);
		const n = readSync(fd, buffer, 0, length, start);
		return { text: buffer.subarray(0, n).toString("utf8"), size: stats.size, mtime: stats.mtime };
	} catch {
		return undefined;
	} finally {
		closeSync(fd);
	}
}
