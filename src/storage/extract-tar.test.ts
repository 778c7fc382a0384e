import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { describe, expect, it } from "vitest";
import { extractTar } from "./extract-tar.js";

describe("tar uploads", () => {
	it("unpacks what GNU tar packs: folders, long names, empty and large files", async () => {
		const src = mkdtempSync(join(tmpdir(), "orrery-tar-src-"));
		const long = `${"d".repeat(80)}/${"e".repeat(80)}/${"f".repeat(120)}.txt`;
		mkdirSync(join(src, long, ".."), { recursive: true });
		writeFileSync(join(src, long), "long\n");
		writeFileSync(join(src, "empty"), "");
		const big = Buffer.alloc(3 * 1024 * 1024 + 7, 7);
		writeFileSync(join(src, "big.bin"), big);
		const archive = execFileSync("tar", ["-c", "-f", "-", "-C", src, "."], { maxBuffer: 64 * 1024 * 1024 });
		const ws = mkdtempSync(join(tmpdir(), "orrery-tar-ws-"));
		// Deliver it in odd-sized pieces, as a network would.
		const pieces: Buffer[] = [];
		for (let i = 0; i < archive.length; i += 7777) pieces.push(archive.subarray(i, i + 7777));
		const result = await extractTar(ws, Readable.from(pieces));
		expect(result.files).toBe(3);
		expect(readFileSync(join(ws, long), "utf8")).toBe("long\n");
		expect(readFileSync(join(ws, "empty"), "utf8")).toBe("");
		expect(readFileSync(join(ws, "big.bin")).equals(big)).toBe(true);
	});

	it("refuses a truncated archive and names of Orrery's own folder", async () => {
		const src = mkdtempSync(join(tmpdir(), "orrery-tar-bad-"));
		mkdirSync(join(src, ".orrery"));
		writeFileSync(join(src, ".orrery", "x"), "x");
		const ws = mkdtempSync(join(tmpdir(), "orrery-tar-ws-"));
		const archive = execFileSync("tar", ["-c", "-f", "-", "-C", src, ".orrery/x"]);
		await expect(extractTar(ws, Readable.from([archive]))).rejects.toThrow(/reserved/);
		writeFileSync(join(src, "y"), "y".repeat(5000));
		const y = execFileSync("tar", ["-c", "-f", "-", "-C", src, "y"]);
		await expect(extractTar(ws, Readable.from([y.subarray(0, 1500)]))).rejects.toThrow(/ends in the middle/);
	});

	it("unpacks a folder the workspace lacks out of sight and moves it into place whole; a failed upload leaves nothing", async () => {
		const src = mkdtempSync(join(tmpdir(), "orrery-tar-new-"));
		for (const f of ["new/a/1.txt", "new/b/2.txt", "old/3.txt"]) {
			mkdirSync(join(src, f, ".."), { recursive: true });
			writeFileSync(join(src, f), `${f}\n`.repeat(300));
		}
		const archive = execFileSync("tar", ["-c", "-f", "-", "-C", src, "old/3.txt", "new/a/1.txt", "new/b/2.txt"]);
		const ws = mkdtempSync(join(tmpdir(), "orrery-tar-ws-"));
		mkdirSync(join(ws, "old"));
		writeFileSync(join(ws, "old", "3.txt"), "before\n");
		// Hold the stream after the first file of the new folder: it must not be visible yet.
		let release: () => void = () => undefined;
		const gate = new Promise<void>((r) => {
			release = r;
		});
		const cut = 512 * 3 + 512 * 2 * 9; // old/3.txt (header + 5 KiB rounded) and most of new/a/1.txt
		let reached: () => void = () => undefined;
		const atGate = new Promise<void>((r) => {
			reached = r;
		});
		async function* held() {
			yield archive.subarray(0, cut);
			reached();
			await gate;
			yield archive.subarray(cut);
		}
		const done = extractTar(ws, Readable.from(held()));
		await atGate;
		await new Promise((r) => setTimeout(r, 50));
		expect(existsSync(join(ws, "new"))).toBe(false);
		expect(readdirSync(ws).filter((n) => n.startsWith(".new."))).toHaveLength(1);
		release();
		expect((await done).files).toBe(3);
		expect(readFileSync(join(ws, "new/a/1.txt"), "utf8")).toBe("new/a/1.txt\n".repeat(300));
		expect(readFileSync(join(ws, "new/b/2.txt"), "utf8")).toBe("new/b/2.txt\n".repeat(300));
		expect(readFileSync(join(ws, "old/3.txt"), "utf8")).toBe("old/3.txt\n".repeat(300));
		expect(readdirSync(ws).sort()).toEqual(["new", "old"]);

		const other = execFileSync("tar", ["-c", "-f", "-", "-C", src, "new"]);
		await expect(
			extractTar(join(ws, "old"), Readable.from([other.subarray(0, 512 * 6)])), // inside the first file
		).rejects.toThrow(/ends in the middle/);
		expect(readdirSync(join(ws, "old"))).toEqual(["3.txt"]);
	});

	it("merges folders that two uploads made at once, replaces files, and refuses a file or a link where a folder goes", async () => {
		const src = mkdtempSync(join(tmpdir(), "orrery-tar-merge-"));
		for (const f of ["data/d1/x.txt", "data/d2/y.txt", "data/d1/z.txt"]) {
			mkdirSync(join(src, f, ".."), { recursive: true });
			writeFileSync(join(src, f), `${f}\n`);
		}
		const ws = mkdtempSync(join(tmpdir(), "orrery-tar-ws-"));
		const one = execFileSync("tar", ["-c", "-f", "-", "-C", src, "data/d1/x.txt", "data/d1/z.txt"]);
		const two = execFileSync("tar", ["-c", "-f", "-", "-C", src, "data/d2/y.txt", "data/d1/z.txt"]);
		await Promise.all([extractTar(ws, Readable.from([one])), extractTar(ws, Readable.from([two]))]);
		expect(readdirSync(ws)).toEqual(["data"]);
		expect(readdirSync(join(ws, "data")).sort()).toEqual(["d1", "d2"]);
		expect(readdirSync(join(ws, "data/d1")).sort()).toEqual(["x.txt", "z.txt"]);
		expect(readFileSync(join(ws, "data/d2/y.txt"), "utf8")).toBe("data/d2/y.txt\n");

		// A name given twice in one archive: the later one wins, as with tar -x.
		writeFileSync(join(src, "data/d1/x.txt"), "second\n");
		const twice = Buffer.concat([
			execFileSync("tar", ["-c", "-f", "-", "-C", src, "data/d1/x.txt"]).subarray(0, 1024),
			execFileSync("tar", ["-c", "-f", "-", "-C", src, "data/d1/x.txt"]),
		]);
		const fresh = mkdtempSync(join(tmpdir(), "orrery-tar-ws-"));
		await extractTar(fresh, Readable.from([twice]));
		expect(readFileSync(join(fresh, "data/d1/x.txt"), "utf8")).toBe("second\n");

		writeFileSync(join(fresh, "file"), "a file\n");
		mkdirSync(join(src, "file"));
		writeFileSync(join(src, "file", "in.txt"), "in\n");
		const intoFile = execFileSync("tar", ["-c", "-f", "-", "-C", src, "file/in.txt"]);
		await expect(extractTar(fresh, Readable.from([intoFile]))).rejects.toThrow(/file in the workspace/);
		const outside = mkdtempSync(join(tmpdir(), "orrery-tar-outside-"));
		symlinkSync(outside, join(fresh, "link"));
		mkdirSync(join(src, "link"));
		writeFileSync(join(src, "link", "in.txt"), "in\n");
		const viaLink = execFileSync("tar", ["-c", "-f", "-", "-C", src, "link/in.txt"]);
		await expect(extractTar(fresh, Readable.from([viaLink]))).rejects.toThrow(/outside the workspace/);
		expect(readdirSync(outside)).toEqual([]);
		expect(readdirSync(fresh).sort()).toEqual(["data", "file", "link"]);
	});
});
