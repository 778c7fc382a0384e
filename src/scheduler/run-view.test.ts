import { describe, expect, it } from "vitest";
import { jobRow } from "../../test/support/job-rows.js";
import type { JobRow } from "../db/index.js";
import { RunViews, toJobView } from "./run-view.js";

describe("job views kept between ticks", () => {
	it("appends new jobs, follows the ones that can still change, and parses outputs once", () => {
		const views = new RunViews();
		const rows = [jobRow(1, "running"), jobRow(2, "failed")];
		const first = views.of("w", rows, true);
		expect(first.map((v) => v.status)).toEqual(["running", "failed"]);
		const running = first[0];

		// The running job ends; its outputs are collected; a new job is appended.
		(rows[0] as JobRow).status = "finished";
		(rows[0] as JobRow).exit_code = 0;
		rows.push(jobRow(3, "queued"));
		const second = views.of("w", rows, true);
		expect(second).toBe(first); // the same list, appended to
		expect(second[0]).toBe(running); // the same view, brought up to date
		expect(second.map((v) => v.status)).toEqual(["finished", "failed", "queued"]);
		expect(second[0]?.outputs).toBeNull();
		(rows[0] as JobRow).outputs = JSON.stringify({ outputs: { n: 1 } });
		const parsed = views.of("w", rows, true)[0]?.outputs;
		expect(parsed).toEqual({ outputs: { n: 1 } });
		expect(views.of("w", rows, true)[0]?.outputs).toBe(parsed); // not parsed again

		// Another list for the run (its jobs read afresh after a restart) starts over.
		const fresh = [jobRow(1, "finished"), jobRow(2, "failed"), jobRow(3, "running")];
		const again = views.of("w", fresh, true);
		expect(again).not.toBe(first);
		expect(again.map((v) => v.status)).toEqual(["finished", "failed", "running"]);
		views.forget("w");
		expect(views.of("w", fresh, true)).not.toBe(again);
	});

	it("gives one row one view object", () => {
		const r = jobRow(1, "queued");
		const v = toJobView(r);
		r.status = "running";
		expect(toJobView(r)).toBe(v);
		expect(v.status).toBe("running");
	});
});
