import { readFile, stat } from "node:fs/promises";
import type { ReanaSpecification } from "../contract/index.js";
import type { JobRow, WorkflowRow } from "../db/index.js";
import type { JobView, RunState, WorkspaceView } from "../engines/index.js";
import { listFiles, resolveInWorkspace } from "../storage/index.js";

/** A job's view with the stored outputs it was parsed from. */
interface CachedView {
	view: JobView;
	rawOutputs: string | null;
}

// One view per stored job, refreshed in place when the row changes: a scheduler hands every job of a
// run to its engine at each tick, and building (and parsing outputs for) thousands of views per tick
// made a large fan-out's cost per job grow with its size. Rows are the scheduler's own objects, kept
// between ticks, so a row that is dropped takes its view with it.
const views = new WeakMap<JobRow, CachedView>();

/** The engine's view of a stored job (the same object for the same row, brought up to date). */
export function toJobView(row: JobRow): JobView {
	const cached = views.get(row);
	if (!cached) {
		const view: JobView = {
			id: row.id,
			key: row.key,
			stepName: row.step_name,
			attempt: row.attempt,
			status: row.status,
			exitCode: row.exit_code,
			message: row.message,
			outputs: row.outputs === null ? null : JSON.parse(row.outputs),
		};
		views.set(row, { view, rawOutputs: row.outputs });
		return view;
	}
	const { view } = cached;
	view.status = row.status;
	view.exitCode = row.exit_code;
	view.message = row.message;
	if (cached.rawOutputs !== row.outputs) {
		// Collected outputs are parsed once, when they change (in practice: once, when collected).
		view.outputs = row.outputs === null ? null : JSON.parse(row.outputs);
		cached.rawOutputs = row.outputs;
	}
	return view;
}

/**
 * The job views of the runs a scheduler holds, kept between ticks: new jobs are appended, and only
 * jobs that can still change are refreshed (a failed or stopped job, or a finished one whose outputs
 * were collected or will not be, never changes again). A tick then costs what changed, not what the
 * run has: with every view rebuilt each tick, a 6,000-job fan-out spent seconds on it.
 */
export class RunViews {
	private readonly runs = new Map<string, { rows: readonly JobRow[]; views: JobView[]; live: Set<number> }>();

	/** The views of a run's jobs (`rows` is the scheduler's own list of them, appended to between ticks). */
	of(workflowId: string, rows: readonly JobRow[], isCollected: boolean): JobView[] {
		let run = this.runs.get(workflowId);
		if (!run || run.rows !== rows || run.views.length > rows.length) {
			run = { rows, views: [], live: new Set() };
			this.runs.set(workflowId, run);
		}
		const isFinal = (row: JobRow) =>
			row.status === "failed" ||
			row.status === "stopped" ||
			(row.status === "finished" && (row.outputs !== null || !isCollected));
		for (const i of run.live) {
			const row = rows[i] as JobRow;
			toJobView(row);
			if (isFinal(row)) run.live.delete(i);
		}
		for (let i = run.views.length; i < rows.length; i++) {
			const row = rows[i] as JobRow;
			run.views.push(toJobView(row));
			if (!isFinal(row)) run.live.add(i);
		}
		return run.views;
	}

	/** Forgets a run's views (it ended, or its lease went elsewhere). */
	forget(workflowId: string): void {
		this.runs.delete(workflowId);
	}

	/** Keeps only the runs named. */
	retain(workflowIds: ReadonlySet<string>): void {
		for (const id of this.runs.keys()) if (!workflowIds.has(id)) this.runs.delete(id);
	}
}

/** A read-only view of a workspace, with every path checked. */
export function workspaceView(root: string): WorkspaceView {
	return {
		path: root,
		readText: async (p) => readFile(await resolveInWorkspace(root, p), "utf8"),
		exists: async (p) => {
			try {
				await stat(await resolveInWorkspace(root, p));
				return true;
			} catch {
				return false;
			}
		},
		list: async (glob) => (await listFiles(root, glob)).map((e) => e.name),
	};
}

/** The specification, parameters and options stored with a workflow, decoded. */
export function decodeWorkflow(wf: WorkflowRow): {
	spec: ReanaSpecification;
	parameters: Record<string, unknown>;
	options: Record<string, unknown>;
} {
	const spec = JSON.parse(wf.spec) as ReanaSpecification;
	const parameters = { ...(spec.inputs?.parameters ?? {}), ...(JSON.parse(wf.parameters) as Record<string, unknown>) };
	return { spec, parameters, options: JSON.parse(wf.options) as Record<string, unknown> };
}

/** The state an engine decides from. */
export function runState(wf: WorkflowRow, jobs: readonly JobRow[], views?: JobView[]): RunState {
	const { spec, parameters, options } = decodeWorkflow(wf);
	return {
		workflowId: wf.id,
		spec,
		parameters,
		options,
		jobs: views ?? jobs.map(toJobView),
		workspace: workspaceView(wf.workspace_path),
	};
}
