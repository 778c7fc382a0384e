import { describe, expect, it } from "vitest";
import { taskIndexes } from "./slurm-rest.js";

describe("slurmrestd array task strings", () => {
	it("expands the indexes of pending array tasks", () => {
		expect(taskIndexes("3-6")).toEqual([3, 4, 5, 6]);
		expect(taskIndexes("1,4-8:2%2")).toEqual([1, 4, 6, 8]);
		expect(taskIndexes("")).toEqual([]);
	});
});
