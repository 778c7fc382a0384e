import { createHash } from "node:crypto";
import {
	existsSync,
	mkdirSync,
	mkdtempSync,
	readdirSync,
	readFileSync,
	rmSync,
	symlinkSync,
	writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { applyChanges, changesBetween, FileDigests, manifestDigest } from "./workspace-manifest.js";

const sha = (text: string) => createHash("sha256").update(text).digest("hex");
const dirs: string[] = [];
const folder = () => {
	const d = mkdtempSync(join(tmpdir(), "orrery-manifest-"));
	dirs.push(d);
	return d;
};
afterEach(() => {
	for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe("workspace manifests", () => {
	it("lists files with their SHA-256 and links with their targets, without Orrery's folder", async () => {
		const ws = folder();
		mkdirSync(join(ws, "data"));
		mkdirSync(join(ws, ".orrery/jobs"), { recursive: true });
		writeFileSync(join(ws, "data/a.txt"), "alpha\n");
		writeFileSync(join(ws, ".orrery/jobs/stdout"), "not part of it\n");
		symlinkSync("data/a.txt", join(ws, "a-link"));
		const manifest = await new FileDigests().scan(ws);
		expect([...manifest]).toEqual([
			["a-link", { link: "data/a.txt" }],
			["data/a.txt", { size: 6, sha256: sha("alpha\n") }],
		]);
	});

	it("hashes a file again when it changed, even to the same size", async () => {
		const ws = folder();
		const digests = new FileDigests();
		writeFileSync(join(ws, "f"), "aaaa");
		const before = await digests.scan(ws);
		writeFileSync(join(ws, "f"), "bbbb");
		const after = await digests.scan(ws);
		expect(after.get("f")).toEqual({ size: 4, sha256: sha("bbbb") });
		expect(manifestDigest(before)).not.toBe(manifestDigest(after));
		expect(changesBetween(before, after)).toEqual({ written: { f: { size: 4, sha256: sha("bbbb") } }, removed: [] });
	});

	it("copies what a job wrote from another workspace, and removes what it removed", async () => {
		const source = folder();
		const target = folder();
		mkdirSync(join(source, "out"));
		writeFileSync(join(source, "out/r.txt"), "result\n");
		symlinkSync("out/r.txt", join(source, "latest"));
		writeFileSync(join(target, "gone.txt"), "x");
		const changes = {
			written: { "out/r.txt": { size: 7, sha256: sha("result\n") }, latest: { link: "out/r.txt" } },
			removed: ["gone.txt"],
		};
		const digests = new FileDigests();
		const applied = await applyChanges(target, source, changes, await digests.scan(target));
		expect(applied).toEqual({ copied: 1, bytes: 7 });
		expect(readFileSync(join(target, "latest"), "utf8")).toBe("result\n");
		expect(existsSync(join(target, "gone.txt"))).toBe(false);
		// Nothing of Orrery's staging is left behind.
		expect(readdirSync(join(target, ".orrery"))).toEqual([]);
	});

	it("changes nothing when a source file no longer has the recorded content", async () => {
		const source = folder();
		const target = folder();
		writeFileSync(join(source, "a.txt"), "first\n");
		writeFileSync(join(source, "b.txt"), "CHANGED\n");
		const changes = {
			written: { "a.txt": { size: 6, sha256: sha("first\n") }, "b.txt": { size: 8, sha256: sha("second\n") } },
			removed: [],
		};
		expect(await applyChanges(target, source, changes, new Map())).toBeUndefined();
		expect(existsSync(join(target, "a.txt"))).toBe(false);
		expect(existsSync(join(target, "b.txt"))).toBe(false);
	});

	it("never writes through a link of the target that leads out of it, nor to paths with '..'", async () => {
		const source = folder();
		const target = folder();
		const outside = folder();
		mkdirSync(join(source, "sub"));
		writeFileSync(join(source, "sub/f"), "data");
		symlinkSync(outside, join(target, "sub"));
		const changes = { written: { "sub/f": { size: 4, sha256: sha("data") } }, removed: [] };
		await expect(applyChanges(target, source, changes, new Map())).rejects.toThrow(/outside|not allowed/);
		expect(readdirSync(outside)).toEqual([]);
		const escaping = { written: { "../f": { size: 4, sha256: sha("data") } }, removed: [] };
		expect(await applyChanges(target, source, escaping, new Map())).toBeUndefined();
		// A source file reached through a link is not read either.
		const linked = folder();
		writeFileSync(join(outside, "secret"), "data");
		symlinkSync(join(outside, "secret"), join(linked, "f"));
		const viaLink = { written: { f: { size: 4, sha256: sha("data") } }, removed: [] };
		expect(await applyChanges(folder(), linked, viaLink, new Map())).toBeUndefined();
	});
});
