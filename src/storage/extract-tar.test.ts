import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
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
});
