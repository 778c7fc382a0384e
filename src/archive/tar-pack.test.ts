import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buffer } from "node:stream/consumers";
import { describe, expect, it } from "vitest";
import { type ArchiveFile, tarStream } from "./tar-pack.js";

function fileOf(base: string, remote: string): ArchiveFile {
	const s = statSync(join(base, remote));
	return { local: join(base, remote), remote, size: s.size, mtimeMs: s.mtimeMs };
}

describe("tar archives of local files", () => {
	it("GNU tar unpacks what it packs: many small files across pieces, long names, sizes at the limits", async () => {
		const src = mkdtempSync(join(tmpdir(), "orrery-tarw-src-"));
		const names: string[] = [];
		mkdirSync(join(src, "many"));
		for (let i = 0; i < 300; i++) {
			// 300 files of ~1-3 kB fill several 256 KiB pieces, so files straddle piece boundaries.
			writeFileSync(join(src, "many", `f${i}.txt`), `${i}`.repeat(300 + i * 3));
			names.push(`many/f${i}.txt`);
		}
		const long = `${"d".repeat(80)}/${"é".repeat(40)}/${"f".repeat(120)}.txt`;
		mkdirSync(join(src, long, ".."), { recursive: true });
		writeFileSync(join(src, long), "long\n");
		writeFileSync(join(src, "empty"), "");
		writeFileSync(join(src, "exact-block"), Buffer.alloc(512, 1));
		writeFileSync(join(src, "small-limit"), Buffer.alloc(128 * 1024, 2));
		writeFileSync(join(src, "large"), Buffer.alloc(128 * 1024 + 1, 3));
		writeFileSync(join(src, "larger"), Buffer.alloc(3 * 1024 * 1024 + 5, 4));
		names.push(long, "empty", "exact-block", "small-limit", "large", "larger");
		let reported = 0;
		const archive = await buffer(
			tarStream(
				names.map((n) => fileOf(src, n)),
				(n) => {
					reported += n;
				},
			),
		);
		const total = names.reduce((n, name) => n + statSync(join(src, name)).size, 0);
		expect(reported).toBe(total);
		expect(archive.length % 512).toBe(0);
		const into = mkdtempSync(join(tmpdir(), "orrery-tarw-out-"));
		execFileSync("tar", ["-x", "-f", "-", "-C", into], { input: archive });
		for (const name of names) expect(readFileSync(join(into, name)).equals(readFileSync(join(src, name)))).toBe(true);
		const listed = execFileSync("tar", ["-t", "-f", "-"], { input: archive, encoding: "utf8" }).trim().split("\n");
		expect(listed.sort()).toEqual([...names].sort());
	});

	it("fails instead of writing a corrupt archive when a file changed size after it was listed", async () => {
		const src = mkdtempSync(join(tmpdir(), "orrery-tarw-changed-"));
		writeFileSync(join(src, "grew"), "12345");
		const listed = fileOf(src, "grew");
		writeFileSync(join(src, "grew"), "123456");
		await expect(buffer(tarStream([listed]))).rejects.toThrow(/changed while it was being sent/);
		writeFileSync(join(src, "shrank"), "12345");
		const shrank = fileOf(src, "shrank");
		writeFileSync(join(src, "shrank"), "1");
		await expect(buffer(tarStream([shrank]))).rejects.toThrow(/changed while it was being sent/);
	});
});
