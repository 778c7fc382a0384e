import { describe, expect, it } from "vitest";
import { placeOutputs } from "./output-placement.js";

const file = (path: string, extra: Record<string, unknown> = {}) => ({
	class: "File",
	location: `file://${path}`,
	path,
	basename: path.split("/").pop(),
	...extra,
});

describe("placing an output object's files in a folder (cwltool's --outdir)", () => {
	it("uses basenames, numbered subfolders for taken names, secondary files beside, listings inside", () => {
		const value = {
			a: file("/w/job1/out/count.csv"),
			b: [file("/w/job2/out/count.csv"), file("/w/job3/out/count.csv")],
			idx: file("/w/j/out/reads.bam", { secondaryFiles: [file("/w/j/out/reads.bam.bai")] }),
			dir: {
				class: "Directory",
				location: "file:///w/j/out/plots",
				basename: "plots",
				listing: [file("/w/j/out/plots/p.png")],
			},
			note: { class: "File", basename: "note.txt", contents: "hello" },
			n: 3,
		};
		const placed = placeOutputs(value, "/w/outputs", (t) => t.replace("/w/", ""));
		expect(placed.files.map((f) => [f.source.path, f.target])).toEqual([
			["/w/job1/out/count.csv", "/w/outputs/count.csv"],
			["/w/job2/out/count.csv", "/w/outputs/2/count.csv"],
			["/w/job3/out/count.csv", "/w/outputs/3/count.csv"],
			["/w/j/out/reads.bam", "/w/outputs/reads.bam"],
			["/w/j/out/reads.bam.bai", "/w/outputs/reads.bam.bai"],
			["/w/j/out/plots/p.png", "/w/outputs/plots/p.png"],
		]);
		expect(placed.literals).toEqual([{ contents: "hello", target: "/w/outputs/note.txt" }]);
		expect(placed.folders).toEqual(["/w/outputs/2", "/w/outputs/3", "/w/outputs/plots"]);
		const v = placed.value as Record<string, Record<string, unknown>>;
		expect(v.a).toMatchObject({ location: "outputs/count.csv", path: "/w/outputs/count.csv", basename: "count.csv" });
		expect(v.dir).toMatchObject({ listing: [{ location: "outputs/plots/p.png" }] });
		expect(v.n).toBe(3);
	});

	it("never places outside the folder, and leaves what it may not place as it is", () => {
		const evil = { class: "File", location: "file:///w/x", path: "/w/x", basename: "../../etc/passwd" };
		const remote = { class: "File", location: "s3://bucket/key.txt", basename: "key.txt" };
		const placed = placeOutputs(
			[evil, remote],
			"/w/outputs",
			(t) => t,
			(f) => f.location !== "s3://bucket/key.txt",
		);
		expect(placed.files.map((f) => f.target)).toEqual(["/w/outputs/passwd"]);
		expect((placed.value as unknown[])[1]).toBe(remote);
	});
});
