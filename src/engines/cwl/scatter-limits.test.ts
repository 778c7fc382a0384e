import { describe, expect, test } from "vitest";
import { MAX_SCATTER_JOBS, scatterJobs } from "./scatter.js";

describe("scatter limits", () => {
	test("refuses a crossproduct whose job count exceeds the limit before building any job", () => {
		// 1,500³ combinations: building them would exhaust memory; counting them is instant.
		const a = Array.from({ length: 1500 }, (_, i) => i);
		const started = performance.now();
		expect(() => scatterJobs({ x: a, y: a, z: a }, ["x", "y", "z"], "flat_crossproduct", "step 's'")).toThrow(
			/^step 's': the scatter would make 3375000000 jobs \(1500 × 1500 × 1500\), more than the limit of 100000/,
		);
		expect(performance.now() - started).toBeLessThan(1000);
	});

	test("refuses a dotproduct longer than the limit and accepts one at the limit", () => {
		const long = Array.from({ length: MAX_SCATTER_JOBS + 1 }, () => 0);
		expect(() => scatterJobs({ x: long }, ["x"], undefined, "step 't'")).toThrow(/step 't'.*100001 jobs/);
		expect(scatterJobs({ x: long.slice(1) }, ["x"], undefined, "step 't'")).toHaveLength(MAX_SCATTER_JOBS);
	});

	test("accepts a nested crossproduct just under the limit", () => {
		const a = Array.from({ length: 100 }, (_, i) => i);
		const b = Array.from({ length: 1000 }, (_, i) => i);
		expect(scatterJobs({ a, b }, ["a", "b"], "nested_crossproduct", "step 'u'")).toHaveLength(100_000);
	});
});
