import { readFile, stat } from "node:fs/promises";
import type { ReanaSpecification } from "../contract/index.js";
import type { JobRow, WorkflowRow } from "../db/index.js";
import type { JobView, RunState, WorkspaceView } from "../engines/index.js";
import { listFiles, resolveInWorkspace } from "../storage/index.js";

// Collected outputs never change once stored, so each is parsed once (a fan-out re-reads them every tick).
const parsedOutputs = new Map<string, { raw: string; value: unknown }>();

function outputsOf(row: JobRow): unknown {
	if (row.outputs === null) return null;
	const cached = parsedOutputs.get(row.id);
	if (cached && cached.raw === row.outputs) return cached.value;
	const value: unknown = JSON.parse(row.outputs);
	if (parsedOutputs.size > 200_000) parsedOutputs.clear();
	parsedOutputs.set(row.id, { raw: row.outputs, value });
	return value;
}

/** The engine's view of a stored job. */
export function toJobView(row: JobRow): JobView {
	return {
		id: row.id,
		key: row.key,
		stepName: row.step_name,
		attempt: row.attempt,
		status: row.status,
		exitCode: row.exit_code,
		message: row.message,
		outputs: outputsOf(row),
	};
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
export function runState(wf: WorkflowRow, jobs: readonly JobRow[]): RunState {
	const { spec, parameters, options } = decodeWorkflow(wf);
	return {
		workflowId: wf.id,
		spec,
		parameters,
		options,
		jobs: jobs.map(toJobView),
		workspace: workspaceView(wf.workspace_path),
	};
}
