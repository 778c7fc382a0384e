import { randomUUID } from "node:crypto";
import {
	existsSync,
	lutimesSync,
	mkdirSync,
	mkdtempSync,
	readdirSync,
	symlinkSync,
	utimesSync,
	writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { beforeEach, describe, expect, it } from "vitest";
import {
	forgetSweptFolders,
	isUploadLeftover,
	leftoverAgeMs,
	sweepUploadLeftovers,
	tarStream,
} from "../../src/archive/index.js";
import { extractTar, writeFileFromStream } from "../../src/storage/index.js";

/** Makes an entry look abandoned: untouched for longer than the sweep's age. */
function age(path: string, isLink = false): void {
	const then = new Date(Date.now() - leftoverAgeMs - 60_000);
	if (isLink) lutimesSync(path, then, then);
	else utimesSync(path, then, then);
}

describe("leftovers of transfers killed midway", () => {
	beforeEach(() => forgetSweptFolders());

	it("recognises exactly the temporary names transfers write under", () => {
		expect(isUploadLeftover(`.${randomUUID()}.upload`)).toBe(true);
		expect(isUploadLeftover(".f12.txt.1a2b3c4d-17.upload")).toBe(true);
		expect(isUploadLeftover(".data.1a2b3c4d.upload")).toBe(true);
		for (const user of [
			".notes.upload",
			"data.1a2b3c4d.upload",
			".x.1A2B3C4D.upload",
			".x.1a2b3c4d.uploaded",
			".x.1a2b3c.upload",
		])
			expect(isUploadLeftover(user), user).toBe(false);
	});

	it("removes abandoned ones from a folder, keeps fresh ones, user files and links, and reads a folder at most once an hour", async () => {
		const dir = mkdtempSync(join(tmpdir(), "orrery-leftovers-"));
		const single = `.${randomUUID()}.upload`;
		writeFileSync(join(dir, single), "half a file");
		writeFileSync(join(dir, ".f1.txt.1a2b3c4d-3.upload"), "half");
		mkdirSync(join(dir, ".data.1a2b3c4d.upload/deep"), { recursive: true });
		writeFileSync(join(dir, ".data.1a2b3c4d.upload/deep/x"), "x");
		for (const name of [single, ".f1.txt.1a2b3c4d-3.upload", ".data.1a2b3c4d.upload"]) age(join(dir, name));
		writeFileSync(join(dir, ".g.txt.5e6f7a8b-0.upload"), "another transfer, still going");
		writeFileSync(join(dir, ".notes.upload"), "the user's own");
		age(join(dir, ".notes.upload"));
		const outside = mkdtempSync(join(tmpdir(), "orrery-leftovers-target-"));
		symlinkSync(outside, join(dir, ".link.9a8b7c6d.upload"));
		age(join(dir, ".link.9a8b7c6d.upload"), true);

		const removed = await sweepUploadLeftovers(dir);
		expect(removed.sort()).toEqual([".data.1a2b3c4d.upload", ".f1.txt.1a2b3c4d-3.upload", single].sort());
		expect(readdirSync(dir).sort()).toEqual([".g.txt.5e6f7a8b-0.upload", ".link.9a8b7c6d.upload", ".notes.upload"]);
		expect(existsSync(outside)).toBe(true);

		// Within the hour the folder is not read again; an hour later the fresh entry, now abandoned, goes.
		age(join(dir, ".g.txt.5e6f7a8b-0.upload"));
		expect(await sweepUploadLeftovers(dir)).toEqual([]);
		expect(await sweepUploadLeftovers(dir, Date.now() + leftoverAgeMs + 1)).toEqual([".g.txt.5e6f7a8b-0.upload"]);
	});

	it("an archive upload cleans what an upload killed earlier left in the folders it writes to", async () => {
		const root = mkdtempSync(join(tmpdir(), "orrery-leftovers-ws-"));
		mkdirSync(join(root, "data"));
		// A killed upload: a folder it was unpacking out of sight, a file it was writing beside its place.
		mkdirSync(join(root, ".more.0badc0de.upload"));
		writeFileSync(join(root, ".more.0badc0de.upload/half.txt"), "half");
		writeFileSync(join(root, "data/.a.txt.0badc0de-0.upload"), "half");
		age(join(root, ".more.0badc0de.upload"));
		age(join(root, "data/.a.txt.0badc0de-0.upload"));

		// The same upload again.
		const src = mkdtempSync(join(tmpdir(), "orrery-leftovers-src-"));
		writeFileSync(join(src, "a.txt"), "a\n");
		const files = [
			{ local: join(src, "a.txt"), remote: "data/a.txt", size: 2, mtimeMs: Date.now() },
			{ local: join(src, "a.txt"), remote: "more/half.txt", size: 2, mtimeMs: Date.now() },
		];
		const result = await extractTar(root, tarStream(files));
		expect(result.files).toBe(2);
		expect(readdirSync(root).sort()).toEqual(["data", "more"]);
		expect(readdirSync(join(root, "more"))).toEqual(["half.txt"]);
		expect(readdirSync(join(root, "data"))).toEqual(["a.txt"]);
	});

	it("a single-file upload cleans its folder the same way", async () => {
		const root = mkdtempSync(join(tmpdir(), "orrery-leftovers-single-"));
		const stale = `.${randomUUID()}.upload`;
		writeFileSync(join(root, stale), "half");
		age(join(root, stale));
		await writeFileFromStream(root, "b.txt", Readable.from([Buffer.from("b\n")]));
		expect(readdirSync(root)).toEqual(["b.txt"]);
	});
});
