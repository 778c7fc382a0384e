import { createHash, randomBytes } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { lstat, lutimes, mkdir, readdir, rename, stat, unlink } from "node:fs/promises";
import { basename, dirname, join, posix } from "node:path";
import { pipeline } from "node:stream/promises";
import { AppError } from "../../common/index.js";
import { normaliseUserPath, resolveInWorkspace } from "../workspace-path.js";
import { isPartialName } from "./remote-store.js";
import { parseRemoteUrl } from "./remote-url.js";
import type { EndpointOptions } from "./staging-credentials.js";
import type { StagingSession } from "./staging-session.js";

/** One file to stage in: where it comes from, where it goes, and what it must be. */
export interface PlannedFile {
	url: string;
	/** The workspace path it goes to. */
	path: string;
	size?: number | undefined;
	sha256?: string | undefined;
	modified?: Date | undefined;
	options: EndpointOptions;
}

/** One declared remote input: an object or a folder (prefix), and where it goes. */
export interface RemoteInputRequest {
	url: string;
	path: string;
	sha256?: string | undefined;
	options: EndpointOptions;
}

/** A checksum that did not match: the run fails before any job, naming the file. */
export class ChecksumMismatchError extends AppError {
	readonly path: string;
	constructor(path: string, url: string, expected: string, actual: string) {
		super(
			"validation_failed",
			`checksum mismatch for ${path} (from ${url}): expected sha256 ${expected}, got ${actual}; check the sha256 in reana.yaml or the remote file`,
		);
		this.name = "ChecksumMismatchError";
		this.path = path;
	}
}

/** Lists what one remote input stands for: one file, or every object under a folder URL. */
export async function expandRemoteInput(
	session: StagingSession,
	request: RemoteInputRequest,
	signal: AbortSignal,
): Promise<PlannedFile[]> {
	const loc = parseRemoteUrl(request.url);
	const store = await session.storeFor(loc, request.options);
	const base = normaliseUserPath(request.path);
	// Below a folder, another publisher's temporary objects are not part of it.
	const entries = (await store.list(loc, signal)).filter((e) => !e.relative || !isPartialName(e.relative));
	return entries.map((e) => ({
		url: e.url,
		path: e.relative ? `${base}/${normaliseUserPath(e.relative)}` : base,
		size: e.size,
		sha256: e.relative ? undefined : (request.sha256?.toLowerCase() ?? undefined),
		modified: e.modified,
		options: request.options,
	}));
}

/** Options of one file's transfer. */
export interface StageFileOptions {
	signal: AbortSignal;
	/** Called with each chunk's size as bytes arrive. */
	onBytes?: (n: number) => void;
}

/**
 * Stages one file into a workspace: skipped when the file there already has the right size and
 * checksum (or, without a checksum, the remote modification time); otherwise streamed to a
 * temporary name beside it, checked, and renamed into place.
 */
export async function stageFile(
	session: StagingSession,
	file: PlannedFile,
	workspace: string,
	options: StageFileOptions,
): Promise<{ isSkipped: boolean; bytes: number }> {
	const target = await resolveInWorkspace(workspace, file.path);
	const present = await stat(target).catch(() => undefined);
	if (present?.isDirectory()) {
		throw new AppError("conflict", `${file.path} is a folder in the workspace, but ${file.url} is a file`);
	}
	if (present && (await isSameFile(target, present, file))) return { isSkipped: true, bytes: 0 };
	const store = await session.storeFor(parseRemoteUrl(file.url), file.options);
	await mkdir(dirname(target), { recursive: true });
	// Resolve again now that the folder exists: a job may have put a symlink where it goes meanwhile.
	const placed = await resolveInWorkspace(workspace, file.path);
	// A fresh name opened with O_EXCL: neither a file nor a symlink planted beside the target is written through.
	const temp = join(dirname(placed), `.${basename(placed)}.${randomBytes(6).toString("hex")}${temporarySuffix}`);
	const { body, size, modified } = await store.open(file.url, options.signal);
	const hash = file.sha256 ? createHash("sha256") : undefined;
	let bytes = 0;
	body.on("data", (chunk: Buffer) => {
		bytes += chunk.length;
		hash?.update(chunk);
		options.onBytes?.(chunk.length);
	});
	try {
		await pipeline(body, createWriteStream(temp, { flags: "wx", highWaterMark: 1024 * 1024 }), {
			signal: options.signal,
		});
		const expected = size ?? file.size;
		if (expected !== undefined && bytes !== expected) {
			throw new AppError("backend_unavailable", `${file.url} arrived incomplete (${bytes} of ${expected} bytes)`, {
				retryable: true,
			});
		}
		const actual = hash?.digest("hex");
		if (file.sha256 && actual !== file.sha256) {
			throw new ChecksumMismatchError(file.path, file.url, file.sha256, actual ?? "");
		}
		// Resolve again: a symlink may have appeared where the file goes while the bytes were streaming.
		if (dirname(await resolveInWorkspace(workspace, file.path)) !== dirname(placed)) {
			throw new AppError(
				"conflict",
				`${file.path} was replaced by a symbolic link while it was staged from ${file.url}; remove the link and start the run again`,
			);
		}
		await rename(temp, placed);
	} catch (error) {
		await unlink(temp).catch(() => undefined);
		throw error;
	}
	const mtime = modified ?? file.modified;
	if (mtime) await lutimes(placed, mtime, mtime);
	return { isSkipped: false, bytes };
}

const temporarySuffix = ".orrery-staging";
/** The names `stageFile` streams into: `.<name>.<12 hex digits>.orrery-staging`. */
const temporaryName = /^\..+\.[0-9a-f]{12}\.orrery-staging$/s;

/**
 * Removes what transfers killed midway (a server stopped hard) left in the folders the given
 * workspace paths are staged into: regular files named like `stageFile`'s temporaries. Call it when a
 * run's stage-in starts, before its transfers: only the holder of the run's lease stages into its
 * workspace, so no live transfer is writing one then. A link, a folder or any other name is left
 * alone, and nothing is followed out of the workspace. Failures are ignored (this is housekeeping,
 * never a reason for staging to fail). Returns the workspace paths removed.
 */
export async function sweepStagingLeftovers(workspace: string, paths: readonly string[]): Promise<string[]> {
	const folders = new Set<string>();
	for (const path of paths) {
		try {
			folders.add(posix.dirname(normaliseUserPath(path)));
		} catch {
			// not a workspace path: nothing is staged there
		}
	}
	const removed: string[] = [];
	for (const folder of folders) {
		const dir = await resolveInWorkspace(workspace, folder === "." ? "" : folder).catch(() => undefined);
		if (dir === undefined) continue;
		for (const name of await readdir(dir).catch(() => [] as string[])) {
			if (!temporaryName.test(name)) continue;
			const entry = join(dir, name);
			if (!(await lstat(entry).catch(() => undefined))?.isFile()) continue;
			await unlink(entry).then(
				() => removed.push(folder === "." ? name : `${folder}/${name}`),
				() => undefined,
			);
		}
	}
	return removed;
}

/**
 * A file already in the workspace counts as staged when its size agrees and a checksum or the remote
 * modification time confirms it; the size alone proves nothing (a job may have rewritten the file).
 */
async function isSameFile(path: string, s: { size: number; mtimeMs: number }, file: PlannedFile): Promise<boolean> {
	if (file.size !== undefined && s.size !== file.size) return false;
	if (file.sha256) return (await sha256File(path)) === file.sha256;
	if (file.modified) return Math.abs(s.mtimeMs - file.modified.getTime()) < 1000;
	return false;
}

/** The SHA-256 of a file, streamed. */
export async function sha256File(path: string): Promise<string> {
	const hash = createHash("sha256");
	for await (const chunk of createReadStream(path, { highWaterMark: 1024 * 1024 })) hash.update(chunk as Buffer);
	return hash.digest("hex");
}
