import { closeSync, openSync, read, readSync } from "node:fs";
import { Readable } from "node:stream";
import { promisify } from "node:util";
import { AppError } from "../common/index.js";
import { openFileWithin } from "./open-within.js";

const readAt = promisify(read);

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

/** Writes a ustar header into `out` at `at` (512 bytes, zero-filled first). */
function writeHeader(out: Buffer, at: number, name: string, size: number, mtime: number, type: string): void {
	out.fill(0, at, at + block);
	out.write(name, at, 100, "utf8");
	out.write(octalField(0o644, 8), at + 100, "ascii");
	out.write(octalField(0, 8), at + 108, "ascii");
	out.write(octalField(0, 8), at + 116, "ascii");
	out.write(octalField(size, 12), at + 124, "ascii");
	out.write(octalField(Math.floor(mtime), 12), at + 136, "ascii");
	out.write("        ", at + 148, "ascii");
	out.write(type, at + 156, "ascii");
	out.write("ustar\0", at + 257, "ascii");
	out.write("00", at + 263, "ascii");
	let sum = 0;
	for (let i = at; i < at + block; i++) sum += out[i] as number;
	out.write(`${sum.toString(8).padStart(6, "0")}\0 `, at + 148, "ascii");
}

/** The header blocks of one entry: a pax header first when the name does not fit ustar's field. */
function headers(path: string, size: number, mtime: number): Buffer {
	const fits = Buffer.byteLength(path) <= 100 && /^[\x20-\x7e]+$/.test(path);
	if (fits) {
		const h = Buffer.allocUnsafe(block);
		writeHeader(h, 0, path, size, mtime, "0");
		return h;
	}
	const body = `path=${path}\n`;
	// A pax record starts with its own length in bytes, digits included.
	let len = Buffer.byteLength(body) + 3;
	while (Buffer.byteLength(`${len} ${body}`) !== len) len = Buffer.byteLength(`${len} ${body}`);
	const record = Buffer.from(`${len} ${body}`, "utf8");
	const recordBlocks = Math.ceil(record.length / block) * block;
	const h = Buffer.alloc(block + recordBlocks + block);
	writeHeader(h, 0, "PaxHeader", record.length, mtime, "x");
	record.copy(h, block);
	writeHeader(h, block + recordBlocks, path.slice(0, 99).replace(/[^\x20-\x7e]/g, "_"), size, mtime, "0");
	return h;
}

/** Size of the pieces the archive is produced in. */
const chunkSize = 256 * 1024;

/**
 * A tar archive (ustar, with pax headers for long names) of local files, produced as a stream of
 * 256 KiB pieces as the request consumes them: small files are read straight into the piece being
 * filled (one synchronous open, read and close each: cheaper than a thread-pool trip per call), large
 * ones in pieces of their own. A file that changes size while it is read fails the archive rather
 * than corrupting it. With `within` (a real path), each file is opened with `openFileWithin`: a link,
 * FIFO or device put in a file's place after it was listed, or a file outside `within`, fails the
 * archive instead of being read.
 */
export function tarStream(files: readonly ArchiveFile[], onBytes?: (n: number) => void, within?: string): Readable {
	const small = 128 * 1024;
	const openFile = (f: ArchiveFile) =>
		within === undefined ? openSync(f.local, "r") : openFileWithin(f.local, within, f.remote);
	async function* pack(): AsyncGenerator<Buffer> {
		let out = Buffer.allocUnsafe(chunkSize);
		let at = 0;
		let data = 0;
		const take = () => {
			const piece = out.subarray(0, at);
			if (data > 0) onBytes?.(data);
			out = Buffer.allocUnsafe(chunkSize);
			at = 0;
			data = 0;
			return piece;
		};
		for (const f of files) {
			const head = headers(f.remote, f.size, f.mtimeMs / 1000);
			const pad = (block - (f.size % block)) % block;
			if (f.size > small) {
				if (at > 0) yield take();
				yield head;
				yield* pieces(f, openFile(f), onBytes);
				if (pad > 0) yield Buffer.alloc(pad);
				continue;
			}
			// Room for the headers, the data, one byte more (to notice a file that grew) and the padding.
			if (at + head.length + f.size + block > out.length && at > 0) yield take();
			head.copy(out, at);
			at += head.length;
			const fd = openFile(f);
			try {
				let got = 0;
				for (;;) {
					const n = readSync(fd, out, at + got, f.size + 1 - got, null);
					if (n === 0) break;
					got += n;
					if (got > f.size) break;
				}
				if (got !== f.size) throw changed(f.local);
			} finally {
				closeSync(fd);
			}
			at += f.size;
			data += f.size;
			out.fill(0, at, at + pad);
			at += pad;
		}
		if (at + 2 * block > out.length) yield take();
		out.fill(0, at, at + 2 * block);
		at += 2 * block;
		yield take();
	}
	return Readable.from(pack(), { objectMode: false });
}

/** A large file in pieces, from its open descriptor (closed at the end). */
async function* pieces(f: ArchiveFile, fd: number, onBytes?: (n: number) => void): AsyncGenerator<Buffer> {
	try {
		let left = f.size;
		while (left > 0) {
			const buf = Buffer.allocUnsafe(Math.min(left, 1024 * 1024));
			const { bytesRead } = await readAt(fd, buf, 0, buf.length, null);
			if (bytesRead === 0) throw changed(f.local);
			left -= bytesRead;
			onBytes?.(bytesRead);
			yield buf.subarray(0, bytesRead);
		}
	} finally {
		closeSync(fd);
	}
}

function changed(path: string): AppError {
	return new AppError("conflict", `${path} changed while it was being sent; send it again`);
}
