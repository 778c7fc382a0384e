import picomatch from "picomatch";
import type { Logger } from "../common/index.js";
import { type Db, dueRetentionRules, findWorkflowById, markRetentionRule } from "../db/index.js";
import { deleteFiles, isGlob, listFiles, stagedFolder } from "../storage/index.js";
import { decodeWorkflow } from "./run-view.js";
import { remoteInputPathsOf } from "./staging-plan.js";

/**
 * The workspace paths retention never deletes: declared inputs (uploaded or staged from remote
 * storage), declared outputs, the workflow's own files, and what CWL runs staged under `.staged/`.
 */
export function keptPathsOf(spec: ReturnType<typeof decodeWorkflow>["spec"]): string[] {
	let remote: string[] = [];
	try {
		remote = remoteInputPathsOf(spec);
	} catch {
		// A URL that no longer parses keeps nothing extra; the declared paths below still count.
	}
	return [
		...(spec.inputs?.files ?? []),
		...(spec.inputs?.directories ?? []),
		...remote,
		stagedFolder,
		...(spec.outputs?.files ?? []),
		...(spec.outputs?.directories ?? []),
		...(spec.workflow.file ? [spec.workflow.file] : []),
		...(spec.workflow.files ?? []),
		...(spec.workflow.directories ?? []),
		...(spec.workflow.parameters?.file ? [spec.workflow.parameters.file] : []),
	]
		.map((p) => p.replace(/^\.?\/+/, "").replace(/\/+$/, ""))
		.filter(Boolean);
}

/**
 * Applies the retention rules whose day has come: files matching a rule are deleted from the run's
 * workspace, except the inputs and outputs the specification declares. Returns how many rules ran.
 */
export async function applyDueRetentionRules(db: Db, now: Date, logger: Logger): Promise<number> {
	const due = await dueRetentionRules(db, now.toISOString());
	for (const rule of due) {
		const wf = await findWorkflowById(db, rule.workflow_id);
		if (!wf || wf.status === "deleted") {
			await markRetentionRule(db, rule.id, "inactive");
			continue;
		}
		const { spec } = decodeWorkflow(wf);
		const kept = keptPathsOf(spec).map((k) =>
			isGlob(k) ? picomatch(k, { dot: true }) : (name: string) => name === k || name.startsWith(`${k}/`),
		);
		const isKept = (name: string) => kept.some((matches) => matches(name));
		// A plain name matches that file, or everything below that folder (listFiles' rule, as in REANA).
		let removed = 0;
		for (const f of await listFiles(wf.workspace_path, rule.pattern).catch(() => [])) {
			if (isKept(f.name)) continue;
			const result = await deleteFiles(wf.workspace_path, f.name).catch(() => undefined);
			removed += Object.keys(result?.deleted ?? {}).length;
		}
		await markRetentionRule(db, rule.id, "applied");
		logger.info({ workflow: wf.id, pattern: rule.pattern, removed }, "retention rule applied");
	}
	return due.length;
}
