import { readFileSync } from "node:fs";
import { open } from "node:fs/promises";
import { Readable } from "node:stream";
import { AppError } from "../common/index.js";

/** One file of an archive: where it is, its name inside, and its size when it was listed. */
export interface ArchiveFile {
	local: string;
	remote: string;
	size: number;
	mtimeMs: number;
}

const block = 512;

function octalField(value: number, length: number): string {
	return `${value.toString(8).padStart(length - 1, "0")}\0`;
}

function header(name: string, size: number, mtime: number, type: string): Buffer {
	const h = Buffer.alloc(block);
	h.write(name, 0, 100, "utf8");
	h.write(octalField(0o644, 8), 100, "ascii");
	h.write(octalField(0, 8), 108, "ascii");
	h.write(octalField(0, 8), 116, "ascii");
	h.write(octalField(size, 12), 124, "ascii");
	h.write(octalField(Math.floor(mtime), 12), 136, "ascii");
	h.write("        ", 148, "ascii");
	h.write(type, 156, "ascii");
	h.write("ustar\0", 257, "ascii");
	h.write("00", 263, "ascii");
	let sum = 0;
	for (const b of h) sum += b;
	h.write(`${sum.toString(8).padStart(6, "0")}\0 `, 148, "ascii");
	return h;
}

/** A pax header carrying a path too long (or not ASCII) for the ustar name field. */
function paxHeader(path: string, mtime: number): Buffer {
	const body = `path=${path}\n`;
	let len = Buffer.byteLength(body) + 3;
	while (`${len} ${body}`.length !== len) len = Buffer.byteLength(`${len} ${body}`);
	const record = Buffer.from(`${len} ${body}`, "utf8");
	const pad = Buffer.alloc((block - (record.length % block)) % block);
	return Buffer.concat([header("PaxHeader", record.length, mtime, "x"), record, pad]);
}

/**
 * A tar archive (ustar, with pax headers for long names) of local files, produced as a stream: each
 * file is read in pieces as the request consumes them. A file that changes size while it is read
 * fails the archive rather than corrupting it.
 */
export function tarStream(files: readonly ArchiveFile[], onBytes?: (n: number) => void): Readable {
	const small = 256 * 1024;
	async function* entries(): AsyncGenerator<Buffer> {
		for (let i = 0; i < files.length; i++) {
			const f = files[i] as ArchiveFile;
			const mtime = f.mtimeMs / 1000;
			const fits = Buffer.byteLength(f.remote) <= 100 && /^[\x20-\x7e]+$/.test(f.remote);
			if (!fits) yield paxHeader(f.remote, mtime);
			yield header(fits ? f.remote : f.remote.slice(0, 99).replace(/[^\x20-\x7e]/g, "_"), f.size, mtime, "0");
			if (f.size <= small) {
				// A small file in one synchronous read: cheaper than a thread-pool trip per call.
				const data = readFileSync(f.local);
				if (data.length !== f.size) throw changed(f.local);
				onBytes?.(data.length);
				yield data;
			} else yield* pieces(f, onBytes);
			const pad = (block - (f.size % block)) % block;
			if (pad > 0) yield Buffer.alloc(pad);
		}
		yield Buffer.alloc(block * 2);
	}
	// Many small pieces become fewer, larger writes.
	async function* coalesced(): AsyncGenerator<Buffer> {
		let parts: Buffer[] = [];
		let size = 0;
		for await (const piece of entries()) {
			parts.push(piece);
			size += piece.length;
			if (size >= 256 * 1024) {
				yield parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts, size);
				parts = [];
				size = 0;
			}
		}
		if (size > 0) yield Buffer.concat(parts, size);
	}
	return Readable.from(coalesced(), { objectMode: false });
}

async function* pieces(f: ArchiveFile, onBytes?: (n: number) => void): AsyncGenerator<Buffer> {
	const handle = await open(f.local, "r");
	try {
		let left = f.size;
		while (left > 0) {
			const buf = Buffer.allocUnsafe(Math.min(left, 1024 * 1024));
			const { bytesRead } = await handle.read(buf, 0, buf.length, null);
			if (bytesRead === 0) throw changed(f.local);
			left -= bytesRead;
			onBytes?.(bytesRead);
			yield buf.subarray(0, bytesRead);
		}
	} finally {
		await handle.close();
	}
}

function changed(path: string): AppError {
	return new AppError("conflict", `${path} changed while it was uploaded; upload again`);
}
