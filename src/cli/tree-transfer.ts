import { createWriteStream, statSync } from "node:fs";
import { mkdir, rename, stat, unlink, utimes } from "node:fs/promises";
import { dirname, isAbsolute, join, relative, resolve, sep } from "node:path";
import { pipeline } from "node:stream/promises";
import { type ArchiveFile, stagedFolders, tarStream, unpackTar } from "../archive/index.js";
import { AppError } from "../common/index.js";
import { parseApiTime } from "../contract/index.js";
import type { ApiClient } from "./api-client.js";
import { sha256Of } from "./local-tree.js";
import { formatBytes, ProgressLine } from "./progress-line.js";

/** A local file to upload; `mtimeMs` is kept in the workspace when given. */
export interface UploadFile {
	local: string;
	remote: string;
	size: number;
	mtimeMs?: number;
}

/** Options of a transfer of many files. */
export interface TreeTransferOptions {
	/** Requests at once (default 4). */
	parallel?: number;
	/** Skip files already there with the same size and SHA-256 (default true). */
	isResuming?: boolean;
	note: (text: string) => void;
	/**
	 * Downloads: the folder under which each file's target is its workspace name; small files placed
	 * so come in tar archives of many.
	 */
	outputDirectory?: string;
	/** The workspace's files, when the caller asked for them already (e.g. while walking local folders). */
	remote?: Promise<RemoteFiles>;
}

/** Size and modification time (ms) of each file of a workspace, by name. */
export type RemoteFiles = Map<string, { size: number; ms: number }>;

/** Lists a workspace's files for the resume check of an upload. */
export async function remoteFiles(api: ApiClient, workflow: string): Promise<RemoteFiles> {
	const listing = await api.call("get_files", { params: { workflow_id_or_name: workflow } });
	return new Map(listing.items.map((i) => [i.name, { size: i.size.raw, ms: parseApiTime(i["last-modified"]) }]));
}

/** Files up to this size travel in tar archives of many; larger ones one per request. */
const smallFile = 1024 * 1024;

/**
 * Uploads files into a workspace: files already there with the same size and checksum are skipped
 * (so a rerun resumes), small files go many at a time as streamed tar archives, large ones one per
 * request; several requests run at once, and a progress bar shows files and bytes.
 */
export async function uploadTree(
	api: ApiClient,
	workflow: string,
	files: readonly UploadFile[],
	options: TreeTransferOptions,
): Promise<{ uploaded: number; skipped: number; names: string[] }> {
	const unchanged =
		options.isResuming === false
			? new Set<string>()
			: await sameRemote(api, workflow, files, options.remote ?? remoteFiles(api, workflow));
	const send = files.filter((f) => !unchanged.has(f.remote));
	const total = send.reduce((n, f) => n + f.size, 0);
	const progress = new ProgressLine();
	let sent = 0;
	let done = 0;
	const draw = (force = false) =>
		progress.update("uploading", done, send.length, `${formatBytes(sent)} / ${formatBytes(total)}`, force);
	const onBytes = (n: number) => {
		sent += n;
		draw();
	};
	const work: Array<() => Promise<void>> = [];
	const small = send.filter((f) => f.size <= smallFile);
	for (const files of archiveBatches(small)) {
		const batch: ArchiveFile[] = files.map((f) => ({ ...f, mtimeMs: f.mtimeMs ?? Date.now() }));
		work.push(async () => {
			await api.uploadArchive(workflow, tarStream(batch, onBytes));
			done += batch.length;
			draw(true);
		});
	}
	for (const f of send.filter((f) => f.size > smallFile)) {
		work.push(async () => {
			const { createReadStream } = await import("node:fs");
			const stream = createReadStream(f.local, { highWaterMark: 1024 * 1024 });
			stream.on("data", (c) => onBytes(c.length));
			await api.upload(workflow, f.remote, stream, f.size);
			done++;
			draw(true);
		});
	}
	await runAll(work, options.parallel ?? 4);
	progress.clear();
	const skipped = files.length - send.length;
	options.note(
		`uploaded ${send.length} file${send.length === 1 ? "" : "s"} (${formatBytes(total)}) to ${workflow}${skipped > 0 ? `; ${skipped} unchanged, skipped` : ""}`,
	);
	return { uploaded: send.length, skipped, names: send.map((f) => f.remote) };
}

/** The names of local files the workspace already has with the same size and SHA-256. */
async function sameRemote(
	api: ApiClient,
	workflow: string,
	files: readonly UploadFile[],
	listing: Promise<RemoteFiles>,
): Promise<Set<string>> {
	const same = new Set<string>();
	const remote = await listing;
	if (files.length === 0) return same;
	// rsync's quick check: the same size and the same modification time (archives keep it, to the second).
	const candidates: UploadFile[] = [];
	for (const f of files) {
		const r = remote.get(f.remote);
		if (r?.size !== f.size) continue;
		if (f.mtimeMs !== undefined && r.ms === Math.floor(f.mtimeMs / 1000) * 1000) same.add(f.remote);
		else candidates.push(f);
	}
	if (candidates.length === 0) return same;
	const local = new Map<string, string>();
	await runAll(
		candidates.map((f) => async () => {
			local.set(f.remote, await sha256Of(f.local));
		}),
		4,
	);
	for (let i = 0; i < candidates.length; i += 5000) {
		const batch = candidates.slice(i, i + 5000);
		const res = await api.call("get_file_digests", {
			params: { workflow_id_or_name: workflow },
			body: { files: batch.map((f) => ({ name: f.remote, size: f.size })) },
		});
		for (const d of res.files) if (d.sha256 && d.sha256 === local.get(d.name)) same.add(d.name);
	}
	return same;
}

/** A workspace file to download and where it goes. */
export interface DownloadFile {
	remote: string;
	size: number;
	target: string;
	modified?: string;
}

/**
 * Downloads files in parallel, each streamed to a partial file beside its target and renamed when
 * complete; files already present with the same size and SHA-256 are skipped (a rerun resumes).
 */
export async function downloadTree(
	api: ApiClient,
	workflow: string,
	files: readonly DownloadFile[],
	options: TreeTransferOptions,
): Promise<{ downloaded: number; skipped: number }> {
	const skip = new Set<string>();
	if (options.isResuming !== false) {
		// rsync's quick check first: the same size and modification time (to the second; downloads keep
		// the workspace's) means unchanged without reading the file; only the rest are compared by checksum.
		const present: DownloadFile[] = [];
		for (const f of files) {
			const s = statSync(f.target, { throwIfNoEntry: false });
			if (s?.size !== f.size) continue;
			if (f.modified && Math.floor(s.mtimeMs / 1000) === Math.floor(parseApiTime(f.modified) / 1000))
				skip.add(f.remote);
			else present.push(f);
		}
		for (let i = 0; i < present.length; i += 5000) {
			const batch = present.slice(i, i + 5000);
			const res = await api.call("get_file_digests", {
				params: { workflow_id_or_name: workflow },
				body: { files: batch.map((f) => ({ name: f.remote, size: f.size })) },
			});
			const remote = new Map(res.files.map((d) => [d.name, d.sha256]));
			for (const f of batch) if (remote.get(f.remote) === (await sha256Of(f.target))) skip.add(f.remote);
		}
	}
	const get = files.filter((f) => !skip.has(f.remote));
	const total = get.reduce((n, f) => n + f.size, 0);
	const progress = new ProgressLine();
	let received = 0;
	let done = 0;
	const draw = (force = false) =>
		progress.update(
			"downloading",
			done,
			get.length,
			`${formatBytes(Math.min(received, total))} / ${formatBytes(total)}`,
			force,
		);
	// Small files whose place is their workspace name under the output folder come many at a time, as
	// streamed tar archives unpacked here; the others (and large ones) one request each.
	const root = options.outputDirectory === undefined ? undefined : resolve(options.outputDirectory);
	const inArchive = (f: DownloadFile) => root !== undefined && f.size <= smallFile && f.target === join(root, f.remote);
	const work: Array<() => Promise<void>> = [];
	const bundled = get.filter(inArchive);
	for (const batch of archiveBatches(bundled)) {
		work.push(async () => {
			await mkdir(root as string, { recursive: true }); // before the response flows
			const res = await api.downloadArchive(
				workflow,
				batch.map((f) => f.remote),
			);
			res.on("data", (c: Buffer) => {
				received += c.length;
				draw();
			});
			// Folders missing here are unpacked out of sight and moved into place when the archive is in.
			const folders = stagedFolders(async (dir) => {
				const abs = targetIn(root as string, dir || ".");
				const s = await stat(abs).catch(() => undefined); // the user's own links are followed here
				if (!s) return undefined;
				if (!s.isDirectory()) throw new AppError("validation_failed", `${abs} is a file, not a folder`);
				return abs;
			});
			let unpacked: { files: number };
			try {
				unpacked = await unpackTar(res, {
					nameOf: (raw) =>
						relative(root as string, targetIn(root as string, raw))
							.split(sep)
							.join("/"),
					folderOf: folders.folderOf,
				});
				await folders.commit();
			} catch (error) {
				await folders.abandon();
				throw error;
			}
			if (unpacked.files !== batch.length)
				throw new AppError(
					"backend_unavailable",
					`an archive arrived with ${unpacked.files} of ${batch.length} files; download again (files already here are skipped)`,
				);
			done += batch.length;
			draw(true);
		});
	}
	work.push(
		...get
			.filter((f) => !inArchive(f))
			.map((f) => async () => {
				const res = await api.download(workflow, f.remote);
				await mkdir(dirname(f.target), { recursive: true });
				res.on("data", (c: Buffer) => {
					received += c.length;
					draw();
				});
				const partial = `${f.target}.orrery-partial`;
				try {
					await pipeline(res, createWriteStream(partial, { highWaterMark: 1024 * 1024 }));
					const s = await stat(partial);
					if (s.size !== f.size)
						throw new AppError("backend_unavailable", `${f.remote} arrived incomplete; download again`);
					await rename(partial, f.target);
				} catch (error) {
					// A failed transfer leaves nothing half-written behind.
					await unlink(partial).catch(() => undefined);
					throw error;
				}
				if (f.modified) {
					const at = new Date(parseApiTime(f.modified));
					await utimes(f.target, at, at).catch(() => undefined);
				}
				done++;
			}),
	);
	await runAll(work, options.parallel ?? 4);
	progress.clear();
	options.note(
		`downloaded ${get.length} file${get.length === 1 ? "" : "s"} (${formatBytes(total)})${skip.size > 0 ? `; ${skip.size} unchanged, skipped` : ""}`,
	);
	return { downloaded: get.length, skipped: skip.size };
}

/** Where a workspace file goes under an output folder; refuses names that would leave it. */
export function targetIn(outputDirectory: string, remote: string): string {
	const out = resolve(outputDirectory);
	const target = resolve(out, remote);
	const rel = relative(out, target);
	if (remote.includes("\0") || isAbsolute(remote) || rel === ".." || rel.startsWith(`..${sep}`) || isAbsolute(rel)) {
		throw new AppError("validation_failed", `${remote} would be written outside ${out}`);
	}
	return target;
}

/** Splits files into the batches of one tar archive each: at most 5,000 files or 64 MiB. */
function archiveBatches<F extends { size: number }>(files: readonly F[]): F[][] {
	const batches: F[][] = [];
	let batch: F[] = [];
	let bytes = 0;
	for (const f of files) {
		if (batch.length > 0 && (batch.length >= 5000 || bytes >= 64 * 1024 * 1024)) {
			batches.push(batch);
			batch = [];
			bytes = 0;
		}
		batch.push(f);
		bytes += f.size;
	}
	if (batch.length > 0) batches.push(batch);
	return batches;
}

/** Runs tasks with at most `parallel` at once; the first failure stops new ones and is thrown. */
export async function runAll(tasks: ReadonlyArray<() => Promise<void>>, parallel: number): Promise<void> {
	let next = 0;
	let failure: unknown;
	const worker = async () => {
		while (failure === undefined && next < tasks.length) {
			const task = tasks[next++] as () => Promise<void>;
			try {
				await task();
			} catch (error) {
				failure ??= error;
			}
		}
	};
	await Promise.all(Array.from({ length: Math.min(parallel, tasks.length) }, worker));
	if (failure !== undefined) throw failure;
}
