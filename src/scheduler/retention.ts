import { unlink } from "node:fs/promises";
import type { Logger } from "../common/index.js";
import {
	activeWorkflowStatuses,
	type Db,
	dueRetentionRules,
	findWorkflowById,
	markRetentionRule,
	type RetentionRuleRow,
} from "../db/index.js";
import { globMatcherOf, isGlob, listFiles, resolveInWorkspace, stagedFolder } from "../storage/index.js";
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
	let count = 0;
	// Page by page past the rules that wait (their workspace is in use), so they never hold back later ones.
	for (let after: RetentionRuleRow | undefined, page = 0; page < maxPagesPerPass; page++) {
		const due = await dueRetentionRules(db, now.toISOString(), rulesPerPage, after);
		for (const rule of due) await applyRule(db, rule, logger);
		count += due.length;
		if (due.length < rulesPerPage) break;
		after = due.at(-1);
	}
	return count;
}

/** Rules read at once, and pages per pass: a pass handles at most 10,000 due rules. */
const rulesPerPage = 100;
const maxPagesPerPass = 100;

/** Matches a kept path: a glob, or that file and everything below that folder; a glob that cannot be used keeps everything. */
function keptMatcher(kept: string): (name: string) => boolean {
	if (!isGlob(kept)) return (name) => name === kept || name.startsWith(`${kept}/`);
	try {
		return globMatcherOf(kept);
	} catch {
		return () => true;
	}
}

async function applyRule(db: Db, rule: RetentionRuleRow, logger: Logger): Promise<void> {
	const wf = await findWorkflowById(db, rule.workflow_id);
	if (!wf || wf.status === "deleted") {
		await markRetentionRule(db, rule.id, "inactive");
		return;
	}
	const sharing = await db.kysely
		.selectFrom("workflows")
		.selectAll()
		.where("workspace_path", "=", wf.workspace_path)
		.where("status", "!=", "deleted")
		.execute();
	if (sharing.some((r) => activeWorkflowStatuses.includes(r.status))) return; // the rule stays due
	const kept = sharing.flatMap((r) => keptPathsOf(decodeWorkflow(r).spec)).map(keptMatcher);
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
