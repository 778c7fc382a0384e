import { describe, expect, it } from "vitest";
import { jobRow } from "../../test/support/job-rows.js";
import type { JobRow } from "../db/index.js";
import { computeProgress, progressIdsShown } from "./progress.js";

describe("run progress", () => {
	it("counts every job exactly but lists only the most recent ids of each state", () => {
		const jobs = [
			...Array.from({ length: 1000 }, (_, i) => jobRow(i + 1, "finished")),
			jobRow(1001, "failed"),
			jobRow(1002, "running"),
			jobRow(1003, "queued"),
		];
		const p = computeProgress(jobs, 5000);
		expect(p.total.total).toBe(5000);
		expect(p.finished.total).toBe(1000);
		expect(p.failed).toEqual({ total: 1, job_ids: ["job-1001-1"] });
		expect(p.running).toEqual({ total: 2, job_ids: ["job-1002-1", "job-1003-1"] });
		expect(p.finished.job_ids).toHaveLength(progressIdsShown);
		expect(p.finished.job_ids.at(-1)).toBe("job-1000-1");
		expect(p.total.job_ids.at(-1)).toBe("job-1003-1");
		expect(p.current_step_name).toBe("step1003");
		// The stored document stays small however many jobs the run has.
		expect(JSON.stringify(p).length).toBeLessThan(4000);
	});

	it("gives the same answer for jobs in any order, and names the newest running step", () => {
		const jobs = [
			jobRow(1, "finished"),
			jobRow(2, "running"),
			jobRow(3, "failed", 1, "c"),
			jobRow(4, "queued"),
			jobRow(5, "finished", 2, "c"),
			jobRow(6, "created"),
		];
		const inOrder = computeProgress(jobs);
		expect(computeProgress([...jobs].reverse())).toEqual(inOrder);
		expect(computeProgress([jobs[3], jobs[0], jobs[5], jobs[1], jobs[4], jobs[2]] as JobRow[])).toEqual(inOrder);
		expect(inOrder.total).toEqual({ total: 5, job_ids: ["job-1-1", "job-2-1", "job-4-1", "job-5-2", "job-6-1"] });
		expect(inOrder.running).toEqual({ total: 3, job_ids: ["job-2-1", "job-4-1", "job-6-1"] });
		expect(inOrder.finished).toEqual({ total: 2, job_ids: ["job-1-1", "job-5-2"] });
		expect(inOrder.failed.total).toBe(0);
		expect(inOrder.current_step_name).toBe("step4");
		expect(computeProgress([jobRow(1, "finished"), jobRow(2, "failed")]).current_step_name).toBe("step2");
		expect(computeProgress([]).current_step_name).toBeNull();
	});

	it("counts only the latest attempt of a retried job", () => {
		const p = computeProgress([jobRow(1, "failed", 1, "a"), jobRow(2, "finished", 2, "a")]);
		expect(p.total.total).toBe(1);
		expect(p.failed.total).toBe(0);
		expect(p.finished.job_ids).toEqual(["job-2-2"]);
	});
});
