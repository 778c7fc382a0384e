import { describe, expect, it } from "vitest";
import { breadcrumb, formatBytes, listDirectory } from "./directory-listing.js";

describe("workspace listing helpers", () => {
	const file = (name: string, raw: number) => ({ name, size: { raw, human_readable: "" }, "last-modified": "" });

	it("shows one folder level at a time with the size of each sub-folder", () => {
		const all = [file("a.txt", 1), file("results/x.csv", 10), file("results/plots/p.png", 100), file("results2/y", 5)];
		const top = listDirectory(all, "");
		expect(top.files.map((f) => f.base)).toEqual(["a.txt"]);
		expect(top.folders).toEqual([
			{ name: "results", path: "results", files: 2, bytes: 110 },
			{ name: "results2", path: "results2", files: 1, bytes: 5 },
		]);
		expect(listDirectory(all, "results").folders.map((f) => f.path)).toEqual(["results/plots"]);
		expect(breadcrumb("results/plots")).toEqual([
			{ name: "results", path: "results" },
			{ name: "plots", path: "results/plots" },
		]);
		expect(formatBytes(1536)).toBe("1.5 KiB");
	});
});
