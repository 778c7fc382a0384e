import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { localTree } from "../../src/cli/local-tree.js";

describe("collecting local files for orrery upload", () => {
	it("takes a folder whose name starts with two dots, which is inside the base", async () => {
		const base = mkdtempSync(join(tmpdir(), "orrery-local-tree-"));
		mkdirSync(join(base, "..data"));
		writeFileSync(join(base, "..data", "x.txt"), "x\n");
		writeFileSync(join(base, "..notes"), "n\n");
		const files = await localTree(["..data", "..notes"], { base });
		expect(files.map((f) => f.remote).sort()).toEqual(["..data/x.txt", "..notes"]);
	});

	it("still refuses a path outside the base", async () => {
		const base = mkdtempSync(join(tmpdir(), "orrery-local-tree-"));
		mkdirSync(join(base, "in"));
		writeFileSync(join(base, "out.txt"), "o\n");
		await expect(localTree(["../out.txt"], { base: join(base, "in") })).rejects.toThrow(/is outside/);
	});
});
