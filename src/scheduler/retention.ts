import { unlink } from "node:fs/promises";
import picomatch from "picomatch";
import type { Logger } from "../common/index.js";
import {
	activeWorkflowStatuses,
	type Db,
	dueRetentionRules,
	findWorkflowById,
	markRetentionRule,
} from "../db/index.js";
import { isGlob, listFiles, resolveInWorkspace, stagedFolder } from "../storage/index.js";
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
 * workspace, except the inputs and outputs declared by any run sharing it (restarts share their
 * parent's). A rule whose workspace an active run uses waits for it to end. Returns how many rules
 * were due.
 */
export async function applyDueRetentionRules(db: Db, now: Date, logger: Logger): Promise<number> {
	const due = await dueRetentionRules(db, now.toISOString());
	for (const rule of due) {
		const wf = await findWorkflowById(db, rule.workflow_id);
		if (!wf || wf.status === "deleted") {
			await markRetentionRule(db, rule.id, "inactive");
			continue;
		}
		const sharing = await db.kysely
			.selectFrom("workflows")
			.selectAll()
			.where("workspace_path", "=", wf.workspace_path)
			.where("status", "!=", "deleted")
			.execute();
		if (sharing.some((r) => activeWorkflowStatuses.includes(r.status))) continue; // the rule stays due
		const kept = sharing
			.flatMap((r) => keptPathsOf(decodeWorkflow(r).spec))
			.map((k) => (isGlob(k) ? picomatch(k, { dot: true }) : (name: string) => name === k || name.startsWith(`${k}/`)));
		const isKept = (name: string) => kept.some((matches) => matches(name));
		// A plain name matches that file, or everything below that folder (listFiles' rule, as in REANA).
		let removed = 0;
		for (const f of await listFiles(wf.workspace_path, rule.pattern).catch(() => [])) {
			if (isKept(f.name)) continue;
			// The listed name is a file's own name, never a pattern: `sample[1].csv` is that file only.
			const isRemoved = await resolveInWorkspace(wf.workspace_path, f.name)
				.then(unlink)
				.then(
					() => true,
					() => false,
				);
			if (isRemoved) removed++;
		}
		await markRetentionRule(db, rule.id, "applied");
		logger.info({ workflow: wf.id, pattern: rule.pattern, removed }, "retention rule applied");
	}
	return due.length;
}
