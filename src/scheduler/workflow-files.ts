import type { ValidationInput, WorkflowEngine } from "../engines/index.js";
import { digestWorkspaceFile } from "../storage/index.js";

/**
 * The SHA-256 of each workflow file a run will read (`{path: sha256}`), for its record at start: the
 * files the engine names (`workflowFiles`), else the specification's `workflow.file`. A file that is
 * missing, a link, or leads out of the workspace is left out: the engine's validation refuses a start
 * that needs it, and nothing outside the workspace is read.
 */
export async function workflowFileDigests(
	engine: WorkflowEngine,
	input: ValidationInput,
): Promise<Record<string, string>> {
	const fallback = input.spec.workflow.file ? [input.spec.workflow.file] : [];
	// An engine that cannot say (its documents do not load) has had validation refuse the start already.
	const paths = engine.workflowFiles ? await engine.workflowFiles(input).catch(() => fallback) : fallback;
	const out: Record<string, string> = {};
	for (const path of [...new Set(paths)].sort()) {
		const digest = await digestWorkspaceFile(input.workspace.path, path).catch(() => undefined);
		if (digest?.kind === "file" && digest.sha256) out[path] = digest.sha256;
	}
	return out;
}
