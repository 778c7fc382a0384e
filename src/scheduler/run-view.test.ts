import { describe, expect, it } from "vitest";
import type { JobRow } from "../db/index.js";
import { RunViews, toJobView } from "./run-view.js";

function row(seq: number, status: JobRow["status"]): JobRow {
	return {
		id: `j${seq}`,
		workflow_id: "w",
		key: `k${seq}`,
		seq,
		attempt: 1,
		step_name: "s",
		backend: "local",
		backend_ref: null,
		command: "true",
		image: null,
		image_used: null,
		resources: "{}",
		job_dir: `/jobs/${seq}`,
		status,
		exit_code: null,
		message: null,
		outputs: null,
		created_at: "2026-01-01T00:00:00.000Z",
		submitted_at: null,
		started_at: null,
		finished_at: null,
	};
}

describe("job views kept between ticks", () => {
	it("appends new jobs, follows the ones that can still change, and parses outputs once", () => {
		const views = new RunViews();
		const rows = [row(1, "running"), row(2, "failed")];
		const first = views.of("w", rows, true);
		expect(first.map((v) => v.status)).toEqual(["running", "failed"]);
		const running = first[0];

		// The running job ends; its outputs are collected; a new job is appended.
		(rows[0] as JobRow).status = "finished";
		(rows[0] as JobRow).exit_code = 0;
		rows.push(row(3, "queued"));
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
		const fresh = [row(1, "finished"), row(2, "failed"), row(3, "running")];
		const again = views.of("w", fresh, true);
		expect(again).not.toBe(first);
		expect(again.map((v) => v.status)).toEqual(["finished", "failed", "running"]);
		views.forget("w");
		expect(views.of("w", fresh, true)).not.toBe(again);
	});

	it("gives one row one view object", () => {
		const r = row(1, "queued");
		const v = toJobView(r);
		r.status = "running";
		expect(toJobView(r)).toBe(v);
		expect(v.status).toBe("running");
	});
});
