import type { Static } from "typebox";
import {
	type JobSummary,
	type Progress,
	toReanaTime,
	toReanaTimeOrNull,
	type WorkflowListItem,
} from "../contract/index.js";
import type { JobRow, UserRow, WorkflowListRow, WorkflowRow } from "../db/index.js";
import { computeProgress, runName } from "../scheduler/index.js";
import { humanSize } from "./human-size.js";

/** A run's progress in the API's shape, with its timestamps in REANA's form (`toReanaTime`). */
export function progressOf(
	wf: Pick<WorkflowRow, "progress" | "started_at" | "finished_at" | "status">,
): Static<typeof Progress> {
	const stored = wf.progress ? (JSON.parse(wf.progress) as ReturnType<typeof computeProgress>) : computeProgress([]);
	return {
		...stored,
		run_started_at: toReanaTimeOrNull(wf.started_at),
		run_finished_at: wf.status === "stopped" ? null : toReanaTimeOrNull(wf.finished_at),
		run_stopped_at: wf.status === "stopped" ? toReanaTimeOrNull(wf.finished_at) : null,
	};
}

/** A run as it appears in a listing. */
export function listItem(wf: WorkflowListRow, owner: UserRow, size?: number): Static<typeof WorkflowListItem> {
	return {
		id: wf.id,
		name: runName(wf),
		status: wf.status,
		user: owner.id,
		owner_email: owner.email,
		created: toReanaTime(wf.created_at),
		progress: progressOf(wf),
		size: size === undefined ? { raw: -1, human_readable: "" } : { raw: size, human_readable: humanSize(size) },
		launcher_url: null,
		shared_with: [],
	};
}

/** A job as the API shows it. */
export function jobSummary(j: JobRow): Static<typeof JobSummary> {
	return {
		id: j.id,
		key: j.key,
		step_name: j.step_name,
		attempt: j.attempt,
		status: j.status,
		compute_backend: j.backend,
		backend_job_id: j.backend_ref,
		command: j.command,
		image: j.image,
		image_used: j.image_used === null ? null : j.image_used === 1,
		exit_code: j.exit_code,
		message: j.message,
		cached_from: j.cached_from,
		created_at: j.created_at,
		started_at: j.started_at,
		finished_at: j.finished_at,
	};
}
