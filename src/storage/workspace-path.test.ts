import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { normaliseUserPath, resolveInWorkspace, UnsafePathError } from "./workspace-path.js";

describe("workspace paths", () => {
	it("normalises harmless paths", () => {
		expect(normaliseUserPath("a//b/./c")).toBe("a/b/c");
		expect(normaliseUserPath("")).toBe("");
		expect(normaliseUserPath(".")).toBe("");
	});

	it.each([
		["../etc/passwd", /'\.\.' is not allowed/],
		["a/../../b", /'\.\.' is not allowed/],
		["/etc/passwd", /absolute paths are not allowed/],
		["a\0b", /NUL byte/],
		[".orrery/jobs/1/exit-code", /reserved/],
	])("rejects %j", (path, message) => {
		expect(() => normaliseUserPath(path)).toThrow(message);
		expect(() => normaliseUserPath(path)).toThrow(UnsafePathError);
	});

	it("rejects a symlink that leaves the workspace, and allows one that stays inside", async () => {
		const root = mkdtempSync(join(tmpdir(), "orrery-ws-"));
		const outside = mkdtempSync(join(tmpdir(), "orrery-outside-"));
		writeFileSync(join(outside, "secret"), "x");
		mkdirSync(join(root, "data"));
		symlinkSync(outside, join(root, "escape"));
		symlinkSync(join(root, "data"), join(root, "inside"));
		await expect(resolveInWorkspace(root, "escape/secret")).rejects.toThrow(/outside the workspace/);
		await expect(resolveInWorkspace(root, "escape/new-file")).rejects.toThrow(/outside the workspace/);
		await expect(resolveInWorkspace(root, "inside/file")).resolves.toMatch(/data\/file$/);
		await expect(resolveInWorkspace(root, "not/yet/there.txt")).resolves.toMatch(/not\/yet\/there\.txt$/);
	});
});
