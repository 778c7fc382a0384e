import { describe, expect, it } from "vitest";
import { runGraph } from "./run-graph.js";
import type { JobItem } from "./use-run-live.js";

function job(id: string, key: string, step: string, status: string, attempt = 1): JobItem {
	return {
		id,
		key,
		step_name: step,
		attempt,
		status,
		compute_backend: "local",
		backend_job_id: null,
		command: "true",
		image: null,
		image_used: null,
		exit_code: null,
		message: null,
		created_at: "2026-01-01T00:00:00Z",
		started_at: null,
		finished_at: null,
	};
}

describe("runGraph", () => {
	it("chains serial steps from the specification, including steps that have no jobs yet", () => {
		const spec = {
			workflow: {
				type: "serial",
				specification: { steps: [{ name: "fit", commands: ["a", "b"] }, { commands: ["c"] }] },
			},
		};
		const graph = runGraph(spec, [job("1", "s0.c0", "fit", "finished"), job("2", "s0.c1", "fit", "running")]);
		expect(graph.steps.map((s) => [s.name, s.status, s.planned])).toEqual([
			["fit", "running", 2],
			["step1", "created", 1],
		]);
		expect(graph.edges).toEqual([["fit", "step1"]]);
	});

	it("shows the latest attempt of a retried job and a failed step as failed", () => {
		const graph = runGraph(undefined, [job("1", "s0.c0", "fit", "failed"), job("2", "s0.c0", "fit", "failed", 2)]);
		expect(graph.steps[0]?.jobs.map((j) => j.id)).toEqual(["2"]);
		expect(graph.steps[0]?.status).toBe("failed");
		expect(graph.hasDependencies).toBe(true);
	});
});
