import { lstat, mkdir, mkdtemp, readFile, rm, stat, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { linkInWorkspace } from "./workspace-links.js";

describe("files of a workspace linked to other places in it (real files)", () => {
	const dirs: string[] = [];
	afterAll(async () => {
		for (const d of dirs) await rm(d, { recursive: true, force: true });
	});

	it("links (same file, no copy), writes literals, and gives the same result when done again", async () => {
		const ws = await mkdtemp(join(tmpdir(), "orrery-links-"));
		dirs.push(ws);
		await mkdir(join(ws, "cwl-work/a/out"), { recursive: true });
		await writeFile(join(ws, "cwl-work/a/out/x.txt"), "x\n");
		const plan = {
			folders: [join(ws, "outputs"), join(ws, "outputs/2")],
			literals: [{ contents: "note\n", target: join(ws, "outputs/note.txt") }],
			links: [
				{ from: join(ws, "cwl-work/a/out/x.txt"), target: join(ws, "outputs/x.txt") },
				{ from: join(ws, "cwl-work/a/out/x.txt"), target: join(ws, "outputs/2/x.txt") },
			],
		};
		await linkInWorkspace(ws, plan);
		await linkInWorkspace(ws, plan);
		const original = await stat(join(ws, "cwl-work/a/out/x.txt"));
		expect((await stat(join(ws, "outputs/x.txt"))).ino).toBe(original.ino);
		expect((await stat(join(ws, "outputs/2/x.txt"))).ino).toBe(original.ino);
		expect(original.nlink).toBe(3);
		expect(await readFile(join(ws, "outputs/note.txt"), "utf8")).toBe("note\n");
	});

	it("links what a symbolic link leads to (its relative target would not resolve from the new place)", async () => {
		const ws = await mkdtemp(join(tmpdir(), "orrery-links-"));
		dirs.push(ws);
		await mkdir(join(ws, "job/out"), { recursive: true });
		await mkdir(join(ws, "outputs"));
		await writeFile(join(ws, "job/out/real.txt"), "real\n");
		await symlink("real.txt", join(ws, "job/out/alias.txt"));
		await linkInWorkspace(ws, {
			folders: [],
			literals: [],
			links: [{ from: join(ws, "job/out/alias.txt"), target: join(ws, "outputs/alias.txt") }],
		});
		expect((await lstat(join(ws, "outputs/alias.txt"))).isSymbolicLink()).toBe(false);
		expect(await readFile(join(ws, "outputs/alias.txt"), "utf8")).toBe("real\n");
		// A link to what is already the target leaves it alone (removing the target would lose the file).
		await symlink("../../outputs/alias.txt", join(ws, "job/out/back.txt"));
		await linkInWorkspace(ws, {
			folders: [],
			literals: [],
			links: [{ from: join(ws, "job/out/back.txt"), target: join(ws, "outputs/alias.txt") }],
		});
		expect(await readFile(join(ws, "outputs/alias.txt"), "utf8")).toBe("real\n");
		// One leading out of the workspace is refused.
		await symlink("/etc/hostname", join(ws, "job/out/away.txt"));
		await expect(
			linkInWorkspace(ws, {
				folders: [],
				literals: [],
				links: [{ from: join(ws, "job/out/away.txt"), target: join(ws, "outputs/away.txt") }],
			}),
		).rejects.toThrow("leads outside the workspace");
	});

	it("refuses any place outside the workspace or in Orrery's own folder, before touching anything", async () => {
		const ws = await mkdtemp(join(tmpdir(), "orrery-links-"));
		dirs.push(ws);
		await writeFile(join(ws, "x.txt"), "x\n");
		const outside = {
			folders: [],
			literals: [],
			links: [{ from: join(ws, "x.txt"), target: join(ws, "../stolen.txt") }],
		};
		await expect(linkInWorkspace(ws, outside)).rejects.toThrow("is not a place in the workspace");
		const internal = {
			folders: [join(ws, "outputs")],
			literals: [],
			links: [{ from: join(ws, ".orrery/jobs/secret"), target: join(ws, "outputs/s") }],
		};
		await expect(linkInWorkspace(ws, internal)).rejects.toThrow("is not a place in the workspace");
		await expect(stat(join(ws, "outputs"))).rejects.toThrow();
	});
});
