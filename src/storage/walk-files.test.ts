import { mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { walkFiles } from "./workspace-files.js";

const dirs: string[] = [];
const folder = () => {
	const d = mkdtempSync(join(tmpdir(), "orrery-walk-"));
	dirs.push(d);
	return d;
};
afterEach(() => {
	for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** Walks `ws`, calling `midway` once after the first entry (the root's folders are listed by then). */
async function walkSwapping(ws: string, midway: () => void): Promise<string[]> {
	const names: string[] = [];
	for await (const e of walkFiles(ws, "", true, true)) {
		if (names.length === 0) midway();
		names.push(e.name);
	}
	return names.sort();
}

describe("walking a workspace that a job changes meanwhile", () => {
	it("does not follow a folder swapped for a link after its parent was listed", async () => {
		const ws = folder();
		const outside = folder();
		writeFileSync(join(outside, "secret.txt"), "someone else's");
		mkdirSync(join(ws, "sub"));
		writeFileSync(join(ws, "sub/mine.txt"), "mine");
		writeFileSync(join(ws, "a.txt"), "a");
		const names = await walkSwapping(ws, () => {
			renameSync(join(ws, "sub"), join(ws, "old"));
			symlinkSync(outside, join(ws, "sub"));
		});
		expect(names.some((n) => n.includes("secret"))).toBe(false);
	});

	it("does not read another folder renamed into the place of the one listed", async () => {
		const ws = folder();
		mkdirSync(join(ws, "sub"));
		mkdirSync(join(ws, "other"));
		writeFileSync(join(ws, "other/planted.txt"), "x");
		writeFileSync(join(ws, "a.txt"), "a");
		const names = await walkSwapping(ws, () => {
			renameSync(join(ws, "sub"), join(ws, "gone"));
			renameSync(join(ws, "other"), join(ws, "sub"));
		});
		expect(names).not.toContain("sub/planted.txt");
	});
});
