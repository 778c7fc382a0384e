import { closeSync, createWriteStream, futimesSync, openSync, renameSync, rmSync, writeSync } from "node:fs";
import { rename, unlink, utimes } from "node:fs/promises";
import { join, posix } from "node:path";
import type { Readable } from "node:stream";
import { AppError, newId } from "../common/index.js";

/** Reads exact byte counts from a stream of chunks without copying more than needed. */
class ByteReader {
	private chunks: Buffer[] = [];
	private length = 0;
	private readonly source: AsyncIterator<Buffer>;

	constructor(body: AsyncIterable<Buffer>) {
		this.source = body[Symbol.asyncIterator]();
	}

	private async fill(n: number): Promise<boolean> {
		while (this.length < n) {
			const next = await this.source.next();
			if (next.done) return false;
			this.chunks.push(next.value);
			this.length += next.value.length;
		}
		return true;
	}

	/** Exactly `n` bytes; undefined at a clean end of the stream. */
	async read(n: number): Promise<Buffer | undefined> {
		if (!(await this.fill(n))) {
			if (this.length === 0) return undefined;
			throw new AppError("validation_failed", "the archive ends in the middle of an entry");
		}
		const all = this.chunks.length === 1 ? (this.chunks[0] as Buffer) : Buffer.concat(this.chunks);
		const out = all.subarray(0, n);
		const rest = all.subarray(n);
		this.chunks = rest.length > 0 ? [rest] : [];
		this.length = rest.length;
		return out;
	}

	/** Up to `n` bytes as they come, for streaming large entries. */
	async *pieces(n: number): AsyncGenerator<Buffer> {
		let left = n;
		while (left > 0) {
			if (this.length === 0 && !(await this.fill(1)))
				throw new AppError("validation_failed", "the archive ends in the middle of a file");
			const head = this.chunks.shift() as Buffer;
			this.length -= head.length;
			const take = Math.min(left, head.length);
			if (take < head.length) {
				this.chunks.unshift(head.subarray(take));
				this.length += head.length - take;
			}
			left -= take;
			yield head.subarray(0, take);
		}
	}
}

interface Header {
	name: string;
	size: number;
	type: string;
	mtime: number;
}

function field(block: Buffer, start: number, length: number): string {
	const raw = block.subarray(start, start + length);
	const end = raw.indexOf(0);
	return raw.subarray(0, end < 0 ? length : end).toString("utf8");
}

function octal(block: Buffer, start: number, length: number): number {
	if ((block[start] ?? 0) & 0x80) {
		// base-256 for values that do not fit in octal digits
		let v = 0;
		for (let i = start + 1; i < start + length; i++) v = v * 256 + (block[i] ?? 0);
		return v;
	}
	const text = field(block, start, length).trim();
	return text ? Number.parseInt(text, 8) : 0;
}

function parseHeader(block: Buffer): Header {
	let sum = 0;
	for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 32 : (block[i] ?? 0);
	if (sum !== octal(block, 148, 8)) throw new AppError("validation_failed", "the upload is not a valid tar archive");
	const prefix = field(block, 257, 6).startsWith("ustar") ? field(block, 345, 155) : "";
	const name = field(block, 0, 100);
	return {
		name: prefix ? `${prefix}/${name}` : name,
		size: octal(block, 124, 12),
		type: String.fromCharCode(block[156] || 48),
		mtime: octal(block, 136, 12),
	};
}

function paxRecords(data: Buffer): Record<string, string> {
	const out: Record<string, string> = {};
	let i = 0;
	while (i < data.length) {
		const space = data.indexOf(32, i);
		const len = Number.parseInt(data.subarray(i, space).toString("utf8"), 10);
		if (!Number.isFinite(len) || len <= 0) break;
		const record = data.subarray(space + 1, i + len - 1).toString("utf8");
		const eq = record.indexOf("=");
		out[record.slice(0, eq)] = record.slice(eq + 1);
		i += len;
	}
	return out;
}

/**
 * Writes a small file with direct system calls. In a folder made for this archive (`isNew`) the file
 * is written in place (nobody sees the folder before the archive is complete); elsewhere beside its
 * place and renamed, so that a reader never sees it half-written. Returns false when `isNew` found the
 * name taken (an archive that holds a name twice): the caller writes it the careful way.
 */
function writeSmallFile(temp: string, target: string, data: Buffer, mtime: Date | undefined, isNew: boolean): boolean {
	let fd: number;
	try {
		fd = openSync(isNew ? target : temp, "wx");
	} catch (error) {
		if (isNew && (error as NodeJS.ErrnoException).code === "EEXIST") return false;
		throw error;
	}
	try {
		let written = 0;
		while (written < data.length) written += writeSync(fd, data, written);
		if (mtime) futimesSync(fd, mtime, mtime);
	} finally {
		closeSync(fd);
	}
	if (!isNew) renameSync(temp, target);
	return true;
}

/** Where `folderOf` puts a folder: its path, and whether this archive made it out of sight of readers. */
export type UnpackFolder = string | { path: string; isNew: boolean };

/** Where an archive's entries go, and how they are checked. */
export interface UnpackOptions {
	/**
	 * A checked, normalised relative name for an entry's raw name (`a/./b` → `a/b`, `""` for the root);
	 * throws for a name that must not be written (absolute, `..`, reserved).
	 */
	nameOf(raw: string): string;
	/**
	 * The absolute folder for a normalised folder name (`""`: the root), created if missing. Called
	 * once per folder. `isNew`: nobody reads the folder until the unpacking is over (the caller moves
	 * it into place afterwards), so files are written there directly instead of through a rename.
	 */
	folderOf(dir: string): Promise<UnpackFolder>;
	maxBytes?: number;
	signal?: AbortSignal;
}

/**
 * Unpacks a tar archive (ustar, pax, GNU long names) as it streams in. Only regular files and
 * folders are accepted; every name goes through `nameOf`, and each file appears complete or not at
 * all: written beside its place, then renamed, or in place in a folder `folderOf` made out of sight.
 */
export async function unpackTar(body: Readable, options: UnpackOptions): Promise<{ files: number; bytes: number }> {
	const reader = new ByteReader(body as AsyncIterable<Buffer>);
	const folders = new Map<string, Promise<{ path: string; isNew: boolean }>>();
	const folderOf = (dir: string): Promise<{ path: string; isNew: boolean }> => {
		let p = folders.get(dir);
		if (!p) {
			p = options.folderOf(dir).then((f) => (typeof f === "string" ? { path: f, isNew: false } : f));
			folders.set(dir, p);
		}
		return p;
	};
	let files = 0;
	let bytes = 0;
	// Temporary names: one random tag per archive and the entry's number (an id per file costs more).
	const tag = newId().slice(0, 8);
	let pax: Record<string, string> = {};
	let longName: string | undefined;
	for (;;) {
		options.signal?.throwIfAborted();
		const block = await reader.read(512);
		if (!block || block.every((b) => b === 0)) break;
		const h = parseHeader(block);
		const size = pax.size ? Number(pax.size) : h.size;
		const padded = Math.ceil(size / 512) * 512;
		if (h.type === "x" || h.type === "g" || h.type === "L") {
			const data = (await reader.read(padded)) ?? Buffer.alloc(0);
			if (h.type === "x") pax = paxRecords(data.subarray(0, size));
			if (h.type === "L") longName = field(data, 0, size);
			continue;
		}
		const rawName = pax.path ?? longName ?? h.name;
		const mtime = pax.mtime ? Number(pax.mtime) : h.mtime;
		pax = {};
		longName = undefined;
		const name = options.nameOf(rawName.replace(/^\.\/+/, ""));
		if (h.type === "5") {
			if (name) await folderOf(name);
			continue;
		}
		if (h.type !== "0" && h.type !== "7") {
			throw new AppError(
				"validation_failed",
				`${rawName} in the archive is not a regular file (links are not accepted)`,
			);
		}
		if (!name) throw new AppError("validation_failed", "an archive entry has an empty name");
		bytes += size;
		if (options.maxBytes !== undefined && bytes > options.maxBytes)
			throw new AppError("validation_failed", "the upload is too large");
		const dir = posix.dirname(name);
		const base = posix.basename(name);
		const folder = await folderOf(dir === "." ? "" : dir);
		const target = join(folder.path, base);
		const temp = join(folder.path, `.${base}.${tag}-${files}.upload`);
		const when = new Date(mtime * 1000);
		files++;
		if (size <= 1024 * 1024) {
			const data = ((await reader.read(padded)) ?? Buffer.alloc(0)).subarray(0, size);
			// Small files are written with direct system calls: a few microseconds each, where a trip through
			// the thread pool per call costs several times that (10,000 files: 0.3 s instead of 2 s).
			try {
				const stamp = mtime > 0 ? when : undefined;
				if (!writeSmallFile(temp, target, data, stamp, folder.isNew)) writeSmallFile(temp, target, data, stamp, false);
			} catch (error) {
				rmSync(temp, { force: true });
				throw error;
			}
			continue;
		}
		// In a folder made for this archive a large file is written in place too (a name given twice replaces).
		const into = folder.isNew ? target : temp;
		const out = createWriteStream(into, { flags: folder.isNew ? "w" : "wx", highWaterMark: 1024 * 1024 });
		try {
			for await (const piece of reader.pieces(size))
				if (!out.write(piece)) await new Promise<void>((r) => out.once("drain", () => r()));
			await new Promise<void>((done, fail) => out.end((error?: Error | null) => (error ? fail(error) : done())));
			if (mtime > 0) await utimes(into, when, when);
			if (!folder.isNew) await rename(temp, target);
		} catch (error) {
			out.destroy();
			await unlink(into).catch(() => undefined);
			throw error;
		}
		if (padded > size) await reader.read(padded - size);
	}
	return { files, bytes };
}
