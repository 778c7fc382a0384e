import type { JobRow } from "../../src/db/index.js";

/** A stored job for unit tests of the scheduler: `seq` names it, the rest has plain defaults. */
export function jobRow(seq: number, status: JobRow["status"], attempt = 1, key = `k${seq}`): JobRow {
	return {
		id: `job-${seq}-${attempt}`,
		workflow_id: "w",
		key,
		seq,
		attempt,
		step_name: `step${seq}`,
		backend: "local",
		backend_ref: null,
		command: `echo ${seq}`,
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
		cached_from: null,
	};
}
