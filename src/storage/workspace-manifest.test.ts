import { createHash } from "node:crypto";
import {
	existsSync,
	mkdirSync,
	mkdtempSync,
	readdirSync,
	readFileSync,
	renameSync,
	rmSync,
	statSync,
	symlinkSync,
	writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { HeldFolder } from "./held-folder.js";
import { applyChanges, changesBetween, copyJobFiles, FileDigests, manifestDigest } from "./workspace-manifest.js";

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
			["data", { dir: true }],
			["data/a.txt", { size: 6, sha256: sha("alpha\n"), mode: 0o644 }],
		]);
	});

	it("hashes a file again when it changed, even to the same size", async () => {
		const ws = folder();
		const digests = new FileDigests();
		writeFileSync(join(ws, "f"), "aaaa");
		const before = await digests.scan(ws);
		writeFileSync(join(ws, "f"), "bbbb");
		const after = await digests.scan(ws);
		expect(after.get("f")).toEqual({ size: 4, sha256: sha("bbbb"), mode: 0o644 });
		expect(manifestDigest(before)).not.toBe(manifestDigest(after));
		expect(changesBetween(before, after)).toEqual({
			written: { f: { size: 4, sha256: sha("bbbb"), mode: 0o644 } },
			removed: [],
		});
	});

	it("copies what a job wrote from another workspace (files with their modes, links, empty folders), and removes what it removed", async () => {
		const source = folder();
		const target = folder();
		mkdirSync(join(source, "out"));
		mkdirSync(join(source, "empty"));
		writeFileSync(join(source, "out/r.txt"), "result\n");
		writeFileSync(join(source, "run.sh"), "#!/bin/sh\n", { mode: 0o755 });
		symlinkSync("out/r.txt", join(source, "latest"));
		writeFileSync(join(target, "gone.txt"), "x");
		const digests = new FileDigests();
		const changes = changesBetween(await digests.scan(target), await digests.scan(source));
		expect(changes.written["run.sh"]).toEqual({ size: 10, sha256: sha("#!/bin/sh\n"), mode: 0o755 });
		expect(changes.written.empty).toEqual({ dir: true });
		const applied = await applyChanges(
			{ workspace: target, folder: "" },
			{ workspace: source, folder: "" },
			changes,
			await digests.scan(target),
		);
		expect(applied).toEqual({ copied: 2, bytes: 17 });
		expect(readFileSync(join(target, "latest"), "utf8")).toBe("result\n");
		expect(statSync(join(target, "run.sh")).mode & 0o777).toBe(0o755);
		expect(statSync(join(target, "empty")).isDirectory()).toBe(true);
		expect(existsSync(join(target, "gone.txt"))).toBe(false);
		// Nothing of Orrery's staging is left behind, in the workspace or beside it.
		expect(existsSync(join(target, ".orrery"))).toBe(false);
		expect(readdirSync(dirname(target)).filter((n) => n.startsWith(".orrery-cache-in-"))).toEqual([]);
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
		const at = (workspace: string) => ({ workspace, folder: "" });
		expect(await applyChanges(at(target), at(source), changes, new Map())).toBeUndefined();
		expect(existsSync(join(target, "a.txt"))).toBe(false);
		expect(existsSync(join(target, "b.txt"))).toBe(false);
	});

	it("never writes through a link of the target, nor reads a source folder or file that a link replaced", async () => {
		const source = folder();
		const target = folder();
		const outside = folder();
		const at = (workspace: string, f = "") => ({ workspace, folder: f });
		mkdirSync(join(source, "sub"));
		writeFileSync(join(source, "sub/f"), "data");
		symlinkSync(outside, join(target, "sub"));
		const changes = { written: { "sub/f": { size: 4, sha256: sha("data") } }, removed: [] };
		await expect(applyChanges(at(target), at(source), changes, new Map())).rejects.toThrow(/link/);
		expect(readdirSync(outside)).toEqual([]);
		const escaping = { written: { "../f": { size: 4, sha256: sha("data") } }, removed: [] };
		expect(await applyChanges(at(target), at(source), escaping, new Map())).toBeUndefined();
		// A source file reached through a link is not read.
		const linked = folder();
		writeFileSync(join(outside, "secret"), "data");
		symlinkSync(join(outside, "secret"), join(linked, "f"));
		const viaLink = { written: { f: { size: 4, sha256: sha("data") } }, removed: [] };
		expect(await applyChanges(at(folder()), at(linked), viaLink, new Map())).toBeUndefined();
		// Nor a source folder that a link took the place of (a job folder swapped for a link to another user's).
		const swapped = folder();
		symlinkSync(outside, join(swapped, "job"));
		const secret = { written: { secret: { size: 4, sha256: sha("data") } }, removed: [] };
		expect(await applyChanges(at(folder()), at(swapped, "job"), secret, new Map())).toBeUndefined();
	});

	it("keeps writing into a held folder after it was renamed and a link put in its place", async () => {
		const ws = folder();
		const outside = folder();
		mkdirSync(join(ws, "d"));
		const held = await HeldFolder.open(ws, "d", false);
		try {
			renameSync(join(ws, "d"), join(ws, "d-moved"));
			symlinkSync(outside, join(ws, "d"));
			writeFileSync(held.at("x"), "here");
		} finally {
			await held.close();
		}
		expect(readFileSync(join(ws, "d-moved/x"), "utf8")).toBe("here");
		expect(readdirSync(outside)).toEqual([]);
		await expect(HeldFolder.open(ws, "d/y", true)).rejects.toThrow(/link/);
		expect(readdirSync(outside)).toEqual([]);
	});

	it("copies a job's logs only from inside its workspace", async () => {
		const from = folder();
		const to = folder();
		const outside = folder();
		writeFileSync(join(outside, "stdout"), "someone else's\n");
		mkdirSync(join(from, ".orrery"));
		symlinkSync(outside, join(from, ".orrery/job"));
		await copyJobFiles({ workspace: from, folder: ".orrery/job" }, { workspace: to, folder: ".orrery/j2" }, ["stdout"]);
		expect(readdirSync(join(to, ".orrery/j2"))).toEqual([]);
		mkdirSync(join(from, ".orrery/real"));
		writeFileSync(join(from, ".orrery/real/stdout"), "mine\n");
		await copyJobFiles({ workspace: from, folder: ".orrery/real" }, { workspace: to, folder: ".orrery/j2" }, [
			"stdout",
		]);
		expect(readFileSync(join(to, ".orrery/j2/stdout"), "utf8")).toBe("mine\n");
	});

	it("refuses a workspace holding a file name that is not UTF-8, and keeps names and links apart in its digest", async () => {
		const ws = folder();
		writeFileSync(Buffer.from(join(ws, "caf\xe9.txt"), "latin1"), "x");
		await expect(new FileDigests().scan(ws)).rejects.toThrow(/not UTF-8/);
		const a = new Map([
			["a", { link: "x\ny" }],
			["z", { size: 1, sha256: "0" }],
		]);
		const b = new Map([
			["a", { link: "x" }],
			["y\nz", { size: 1, sha256: "0" }],
		]);
		expect(manifestDigest(a)).not.toBe(manifestDigest(b));
	});
});
