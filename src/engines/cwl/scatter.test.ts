import { describe, expect, test } from "vitest";
import { gatherScatter, scatterJobs } from "./scatter.js";
import { mergeSources } from "./source-merge.js";

describe("scatter", () => {
	const inputs = { a: [1, 2], b: ["x", "y", "z"], c: "same" };

	test("dotproduct pairs items and needs equal lengths", () => {
		const jobs = scatterJobs({ a: [1, 2], b: ["x", "y"], c: "same" }, ["a", "b"], "dotproduct", "step s");
		expect(jobs.map((j) => j.inputs)).toEqual([
			{ a: 1, b: "x", c: "same" },
			{ a: 2, b: "y", c: "same" },
		]);
		expect(() => scatterJobs(inputs, ["a", "b"], "dotproduct", "step s")).toThrow(/equal length, got 2 and 3/);
	});

	test("crossproducts take every combination, the last input fastest", () => {
		const jobs = scatterJobs(inputs, ["a", "b"], "flat_crossproduct", "step s");
		expect(jobs.map((j) => `${j.inputs.a}${j.inputs.b}`)).toEqual(["1x", "1y", "1z", "2x", "2y", "2z"]);
		expect(jobs[4]?.index).toEqual([1, 1]);
	});

	test("nested_crossproduct results nest one list per scattered input; flat ones do not", () => {
		const results = ["1x", "1y", "1z", "2x", "2y", "2z"].map((o) => ({ o }));
		expect(gatherScatter(results, ["o"], [2, 3], "nested_crossproduct")).toEqual({
			o: [
				["1x", "1y", "1z"],
				["2x", "2y", "2z"],
			],
		});
		expect(gatherScatter(results, ["o"], [2, 3], "flat_crossproduct").o).toHaveLength(6);
		expect(gatherScatter([], ["o"], [0, 3], "nested_crossproduct")).toEqual({ o: [] });
	});

	test("a scattered input that is not a list is an error naming it", () => {
		expect(() => scatterJobs({ a: 5 }, ["a"], undefined, "step s")).toThrow(
			/step s: the scattered input 'a' must be a list/,
		);
	});
});

describe("links", () => {
	const values = new Map<string, unknown>([
		["x", [1, 2]],
		["y", 3],
		["n", null],
	]);

	test("one source passes its value; several are merged nested by default, or flattened", () => {
		expect(mergeSources({ source: ["x"] }, values, "w")).toEqual([1, 2]);
		expect(mergeSources({ source: ["x", "y"] }, values, "w")).toEqual([[1, 2], 3]);
		expect(mergeSources({ source: ["x", "y"], linkMerge: "merge_flattened" }, values, "w")).toEqual([1, 2, 3]);
	});

	test("pickValue drops nulls as asked and fails when the rule cannot hold", () => {
		expect(mergeSources({ source: ["n", "y"], pickValue: "first_non_null" }, values, "w")).toBe(3);
		expect(mergeSources({ source: ["n", "y", "n"], pickValue: "all_non_null" }, values, "w")).toEqual([3]);
		expect(mergeSources({ source: ["n", "y"], pickValue: "the_only_non_null" }, values, "w")).toBe(3);
		expect(() => mergeSources({ source: ["x", "y"], pickValue: "the_only_non_null" }, values, "out")).toThrow(
			/out: pickValue the_only_non_null needs exactly one/,
		);
		expect(() => mergeSources({ source: ["n", "n"], pickValue: "first_non_null" }, values, "out")).toThrow(
			/only null values/,
		);
	});
});
