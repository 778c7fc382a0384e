import { createTwoFilesPatch, structuredPatch } from "diff";
import type { FastifyInstance } from "fastify";
import { toReanaTimeOrNull } from "../../contract/index.js";
import { listRetentionRules, type WorkflowRow } from "../../db/index.js";
import { decodeWorkflow, runName } from "../../scheduler/index.js";
import { listFiles } from "../../storage/index.js";
import { handle } from "../route-kit.js";
import type { ServerContext } from "../server-context.js";
import { runFor } from "./workflow-routes.js";

/** The lines of a unified diff of two texts, without file headers (REANA's clients print them as they come). */
function diffLines(a: string, b: string, context: number): string[] {
	if (a === b) return [];
	const patch = structuredPatch("a", "b", a, b, "", "", { context });
	return patch.hunks.flatMap((h) => [`@@ -${h.oldStart},${h.oldLines} +${h.newStart},${h.newLines} @@`, ...h.lines]);
}

function yamlish(value: unknown): string {
	return value === undefined ? "" : `${JSON.stringify(value, null, 2)}\n`;
}

/** Sections of two runs' specifications that differ, and their parameters, as REANA's diff reports them. */
export function specificationDiff(a: WorkflowRow, b: WorkflowRow, context: number): Record<string, string[]> {
	const da = decodeWorkflow(a);
	const db = decodeWorkflow(b);
	const sections = ["version", "inputs", "workflow", "outputs", "workspace", "tests"] as const;
	const out: Record<string, string[]> = {};
	for (const section of sections) {
		const lines = diffLines(yamlish(da.spec[section]), yamlish(db.spec[section]), context);
		if (lines.length > 0) out[section] = lines;
	}
	const params = diffLines(yamlish(da.parameters), yamlish(db.parameters), context);
	if (params.length > 0) out.parameters = params;
	const options = diffLines(yamlish(da.options), yamlish(db.options), context);
	if (options.length > 0) out.operational_options = options;
	const files = workflowFilesDiff(a, b);
	if (files.length > 0) out.workflow_files = files;
	return out;
}

/**
 * The workflow files whose SHA-256 differs between two runs, as recorded when each started
 * (`- tool.cwl sha256:…` / `+ tool.cwl sha256:…`; a file of one run only has one line). Runs started
 * before the record existed are not compared.
 */
function workflowFilesDiff(a: WorkflowRow, b: WorkflowRow): string[] {
	if (a.workflow_files === null || b.workflow_files === null) return [];
	const fa = JSON.parse(a.workflow_files) as Record<string, string>;
	const fb = JSON.parse(b.workflow_files) as Record<string, string>;
	const lines: string[] = [];
	for (const path of [...new Set([...Object.keys(fa), ...Object.keys(fb)])].sort()) {
		if (fa[path] === fb[path]) continue;
		if (fa[path] !== undefined) lines.push(`- ${path} sha256:${fa[path]}`);
		if (fb[path] !== undefined) lines.push(`+ ${path} sha256:${fb[path]}`);
	}
	return lines;
}

async function listing(wf: WorkflowRow): Promise<string> {
	const files = await listFiles(wf.workspace_path).catch(() => []);
	return files.map((f) => `${f.name}\t${f.size}`).join("\n") + (files.length ? "\n" : "");
}

/** Parameters, retention rules and the difference of two runs. */
export function runHistoryRoutes(app: FastifyInstance, ctx: ServerContext): void {
	handle(app, "get_workflow_parameters", async ({ principal, params }) => {
		const wf = await runFor(ctx, principal, params.workflow_id_or_name, "workflow.read");
		const { parameters } = decodeWorkflow(wf);
		return { id: wf.id, name: runName(wf), type: wf.type, parameters };
	});

	handle(app, "get_workflow_retention_rules", async ({ principal, params }) => {
		const wf = await runFor(ctx, principal, params.workflow_id_or_name, "workflow.read");
		const rules = await listRetentionRules(ctx.db, wf.id);
		return {
			workflow_id: wf.id,
			workflow_name: runName(wf),
			retention_rules: rules.map((r) => ({
				id: r.id,
				workspace_files: r.pattern,
				retention_days: r.retention_days,
				apply_on: toReanaTimeOrNull(r.apply_on),
				status: r.status,
			})),
		};
	});

	handle(app, "get_workflow_diff", async ({ principal, params, query }) => {
		const a = await runFor(ctx, principal, params.workflow_id_or_name_a, "workflow.read");
		const b = await runFor(ctx, principal, params.workflow_id_or_name_b, "workflow.read");
		const context = query.context_lines === undefined ? 5 : Number(query.context_lines);
		const spec = specificationDiff(a, b, context);
		let files: string[];
		if (query.brief) {
			const [la, lb] = [await listing(a), await listing(b)];
			files = la === lb ? [] : [`Files of ${runName(a)} and ${runName(b)} differ`];
		} else {
			const patch = createTwoFilesPatch(runName(a), runName(b), await listing(a), await listing(b), "", "", {
				context,
			});
			files = patch
				.split("\n")
				.slice(2)
				.filter((l, i, all) => l !== "" || i < all.length - 1);
			if (!files.some((l) => l.startsWith("@@"))) files = [];
		}
		// REANA sends its `diff` output as one JSON-encoded string (reana-client calls `splitlines()` on
		// it); no difference is the empty string.
		const workspace = files.length === 0 ? "" : `${files.join("\n")}\n`;
		return { reana_specification: JSON.stringify(spec), workspace_listing: JSON.stringify(workspace) };
	});
}
