import { lstat, mkdir, mkdtemp, readdir, readFile, rm, stat, symlink, writeFile } from "node:fs/promises";
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

	it("leaves in an exclusive folder only what it placed and what it linked from there, removing links unfollowed", async () => {
		const ws = await mkdtemp(join(tmpdir(), "orrery-links-"));
		dirs.push(ws);
		const outside = await mkdtemp(join(tmpdir(), "orrery-links-outside-"));
		dirs.push(outside);
		await writeFile(join(outside, "precious.txt"), "keep\n");
		await mkdir(join(ws, "job/out"), { recursive: true });
		await writeFile(join(ws, "job/out/f1.txt"), "new\n");
		// What an earlier run left: files, a numbered folder, an empty folder, links in and out of the workspace.
		await mkdir(join(ws, "outputs/2/deep"), { recursive: true });
		await mkdir(join(ws, "outputs/empty"));
		for (const name of ["f1.txt", "f2.txt", "2/f3.txt", "2/deep/f4.txt", ".hidden", "passed.txt"])
			await writeFile(join(ws, "outputs", name), "old\n");
		await symlink(outside, join(ws, "outputs/away"));
		await symlink(join(ws, "job"), join(ws, "outputs/job"));
		await linkInWorkspace(ws, {
			folders: [join(ws, "outputs"), join(ws, "outputs/dir")],
			literals: [{ contents: "lit\n", target: join(ws, "outputs/dir/lit.txt") }],
			links: [
				{ from: join(ws, "job/out/f1.txt"), target: join(ws, "outputs/f1.txt") },
				// An input passed through from the folder itself stays where it is, as well as at its place.
				{ from: join(ws, "outputs/passed.txt"), target: join(ws, "outputs/2/passed.txt") },
			],
			exclusiveFolder: join(ws, "outputs"),
		});
		const listing = async (dir: string): Promise<string[]> => {
			const out: string[] = [];
			for (const e of await readdir(dir, { withFileTypes: true })) {
				out.push(e.name);
				if (e.isDirectory()) out.push(...(await listing(join(dir, e.name))).map((n) => `${e.name}/${n}`));
			}
			return out.sort();
		};
		expect(await listing(join(ws, "outputs"))).toEqual([
			"2",
			"2/passed.txt",
			"dir",
			"dir/lit.txt",
			"f1.txt",
			"passed.txt",
		]);
		expect(await readFile(join(ws, "outputs/f1.txt"), "utf8")).toBe("new\n");
		expect(await readdir(outside)).toEqual(["precious.txt"]);
		expect(await readFile(join(ws, "job/out/f1.txt"), "utf8")).toBe("new\n");
		await expect(linkInWorkspace(ws, { folders: [], literals: [], links: [], exclusiveFolder: ws })).rejects.toThrow(
			"cannot be emptied",
		);
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
