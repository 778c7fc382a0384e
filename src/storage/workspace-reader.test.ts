// Collecting a job's outputs checks a path once and reads it afterwards: a tool (or another job of
// the run) may swap the file, or a folder on the way, for a symbolic link in between.
import { execFileSync } from "node:child_process";
import { mkdir, mkdtemp, rename, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeEach, describe, expect, it } from "vitest";
import { workspaceFiles } from "./workspace-reader.js";

const secret = "SECRET of the server\n";

describe.each([true, false])(
	"a workspace file swapped for a link after it was checked (isLocalDisk %s)",
	(isLocalDisk) => {
		const dirs: string[] = [];
		let root: string;
		let outside: string;
		afterAll(async () => {
			for (const d of dirs) await rm(d, { recursive: true, force: true });
		});
		beforeEach(async () => {
			root = await mkdtemp(join(tmpdir(), "orrery-reader-"));
			outside = await mkdtemp(join(tmpdir(), "orrery-reader-outside-"));
			dirs.push(root, outside);
			await writeFile(join(outside, "f.txt"), secret);
			await mkdir(join(root, "job/out"), { recursive: true });
			await writeFile(join(root, "job/out/f.txt"), "mine\n");
		});

		it("refuses to read through a link that replaced the file itself", async () => {
			const f = join(root, "job/out/f.txt");
			const view = workspaceFiles(root, { isLocalDisk }).once();
			expect(await view.stat(f)).toEqual({ isDirectory: false, size: 5 });
			await symlink(join(outside, "f.txt"), `${f}.new`);
			await rename(`${f}.new`, f);
			await expect(view.readHead(f, 100)).rejects.toThrow("'job/out/f.txt' is not allowed");
			await expect(view.sha1(f)).rejects.toThrow("is not allowed");
			await expect(view.readText(f)).rejects.toThrow("is not allowed");
		});

		it("refuses to read through a folder on the way that was replaced by a link", async () => {
			const f = join(root, "job/out/f.txt");
			const view = workspaceFiles(root, { isLocalDisk }).once();
			expect(await view.stat(f)).toEqual({ isDirectory: false, size: 5 });
			await rename(join(root, "job/out"), join(root, "job/was"));
			await symlink(outside, join(root, "job/out"));
			await expect(view.readHead(f, 100)).rejects.toThrow(/'job\/out\/f.txt' is not allowed: it leads outside/);
			await expect(view.sha1(f)).rejects.toThrow("leads outside the workspace");
			await expect(view.readText(f)).rejects.toThrow("leads outside the workspace");
		});

		it("refuses to read through a folder on the way that became a link into Orrery's own folder", async () => {
			const f = join(root, "job/out/f.txt");
			const view = workspaceFiles(root, { isLocalDisk }).once();
			expect(await view.stat(f)).toEqual({ isDirectory: false, size: 5 });
			await mkdir(join(root, ".orrery/job-1"), { recursive: true });
			await writeFile(join(root, ".orrery/job-1/f.txt"), secret);
			await rename(join(root, "job/out"), join(root, "job/was"));
			await symlink(join(root, ".orrery/job-1"), join(root, "job/out"));
			await expect(view.readText(f)).rejects.toThrow(/'job\/out\/f.txt' is not allowed: it leads outside/);
			await expect(view.sha1(f)).rejects.toThrow("leads outside the workspace");
		});

		it("reads what it checked when nothing changed, and refuses a FIFO without waiting for a writer", async () => {
			const view = workspaceFiles(root, { isLocalDisk }).once();
			const f = join(root, "job/out/f.txt");
			expect(await view.readHead(f, 2)).toEqual({ text: "mi", isTruncated: true });
			expect(await view.readText(f)).toBe("mine\n");
			expect(await view.sha1(f)).toBe("dbb33b91dd3d9b45c929765e1e40edb2bcbe3478");
			await expect(view.readText(join(root, "job"))).rejects.toThrow("is not a regular file");
			execFileSync("mkfifo", [join(root, "job/out/fifo")]);
			await expect(view.readHead(join(root, "job/out/fifo"), 100)).rejects.toThrow("is not a regular file");
		});
	},
);
