import { execFileSync } from "node:child_process";
import {
	closeSync,
	mkdirSync,
	mkdtempSync,
	readFileSync,
	realpathSync,
	renameSync,
	symlinkSync,
	writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { createFileIn, openFileWithin } from "./open-within.js";

function setUp(): { root: string; outside: string } {
	const root = realpathSync(mkdtempSync(join(tmpdir(), "orrery-within-")));
	const outside = realpathSync(mkdtempSync(join(tmpdir(), "orrery-outside-")));
	writeFileSync(join(outside, "secret.txt"), "secret\n");
	mkdirSync(join(root, "sub"));
	writeFileSync(join(root, "sub", "ok.txt"), "ok\n");
	return { root, outside };
}

describe("opening files within a folder", () => {
	it("opens a regular file within and refuses a link, a FIFO, or a folder swapped for a link to outside", () => {
		const { root, outside } = setUp();
		const fd = openFileWithin(join(root, "sub", "ok.txt"), root, "sub/ok.txt");
		expect(readFileSync(fd, "utf8")).toBe("ok\n");
		closeSync(fd);
		symlinkSync(join(outside, "secret.txt"), join(root, "last.txt"));
		expect(() => openFileWithin(join(root, "last.txt"), root, "last.txt")).toThrow(/'last.txt' is not a regular file/);
		symlinkSync("sub/ok.txt", join(root, "inside-link.txt"));
		expect(() => openFileWithin(join(root, "inside-link.txt"), root, "inside-link.txt")).toThrow(/not a regular file/);
		execFileSync("mkfifo", [join(root, "pipe")]);
		expect(() => openFileWithin(join(root, "pipe"), root, "pipe")).toThrow(/'pipe' is not a regular file/);
		// The path was checked while `sub` was a folder; since then a job replaced it by a link to outside.
		renameSync(join(root, "sub"), join(root, "sub.old"));
		symlinkSync(outside, join(root, "sub"));
		expect(() => openFileWithin(join(root, "sub", "secret.txt"), root, "sub/secret.txt")).toThrow(
			/'sub\/secret.txt' leads outside the workspace/,
		);
		expect(() => openFileWithin(join(root, "nothing"), root, "nothing")).toThrow(/does not exist/);
	});

	it("creates a file only in the folder that was checked, never through a link", () => {
		const { root, outside } = setUp();
		const folder = { path: join(root, "sub"), real: join(root, "sub") };
		const fd = createFileIn(folder, "new.txt", "sub/new.txt");
		closeSync(fd);
		symlinkSync(join(outside, "secret.txt"), join(root, "sub", "planted"));
		expect(() => createFileIn(folder, "planted", "sub/planted")).toThrow(/EEXIST/);
		renameSync(join(root, "sub"), join(root, "sub.old"));
		symlinkSync(outside, join(root, "sub"));
		expect(() => createFileIn(folder, "evil.txt", "sub/evil.txt")).toThrow(/replaced by a link/);
		expect(() => readFileSync(join(outside, "evil.txt"))).toThrow(/ENOENT/);
		expect(readFileSync(join(outside, "secret.txt"), "utf8")).toBe("secret\n");
	});
});
