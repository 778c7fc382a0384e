import type { Logger } from "../common/index.js";
import { type Db, dueRetentionRules, findWorkflowById, markRetentionRule } from "../db/index.js";
import { deleteFiles, isGlob, listFiles } from "../storage/index.js";
import { decodeWorkflow } from "./run-view.js";

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
		const kept = [
			...(spec.inputs?.files ?? []),
			...(spec.inputs?.directories ?? []),
			...(spec.outputs?.files ?? []),
			...(spec.outputs?.directories ?? []),
		].map((p) => p.replace(/^\.?\/+/, "").replace(/\/+$/, ""));
		const isKept = (name: string) => kept.some((k) => name === k || name.startsWith(`${k}/`));
		const pattern = isGlob(rule.pattern) ? rule.pattern : `${rule.pattern.replace(/\/+$/, "")}/**`;
		let removed = 0;
		for (const f of await listFiles(wf.workspace_path, pattern).catch(() => [])) {
			if (isKept(f.name)) continue;
			const result = await deleteFiles(wf.workspace_path, f.name).catch(() => undefined);
			removed += Object.keys(result?.deleted ?? {}).length;
		}
		await markRetentionRule(db, rule.id, "applied");
		logger.info({ workflow: wf.id, pattern: rule.pattern, removed }, "retention rule applied");
	}
	return due.length;
}
