import type { FastifyInstance } from "fastify";
import { AppError } from "../../common/index.js";
import type { WorkflowRow } from "../../db/index.js";
import { decodeWorkflow, remeasure, remoteInputPaths, runName } from "../../scheduler/index.js";
import { moveFile, pruneWorkspace, stagedFolder } from "../../storage/index.js";
import { diskUsageLines } from "../disk-usage.js";
import { jsonBodyOfGet } from "../get-body.js";
import { humanSize } from "../human-size.js";
import { handle } from "../route-kit.js";
import { parseSearch } from "../search-filter.js";
import type { ServerContext } from "../server-context.js";
import { runFor } from "./workflow-routes.js";

const active = new Set(["queued", "pending", "running"]);

function refuseWhileActive(wf: WorkflowRow, what: string): void {
	if (active.has(wf.status)) {
		throw new AppError(
			"conflict",
			`workflow ${runName(wf)} is ${wf.status}; ${what} once it has ended (or stop it first)`,
		);
	}
}

/** du, mv and prune: operations on a whole workspace, as REANA has them. */
export function workspaceOpsRoutes(app: FastifyInstance, ctx: ServerContext): void {
	handle(app, "get_workflow_disk_usage", async ({ principal, params, query, raw }) => {
		const wf = await runFor(ctx, principal, params.workflow_id_or_name, "workflow.read");
		const body = await jsonBodyOfGet(raw);
		const summarize = query.summarize ?? body.summarize === true;
		const search = parseSearch(query.search ?? (typeof body.search === "string" ? body.search : undefined), [
			"name",
			"size",
		]);
		const owner = wf.owner_id;
		// Names as REANA's `du` gives them: the path below the workspace with a leading `/`, and "" for
		// the whole workspace (reana-client prints ".{name}").
		const lines = await diskUsageLines(wf.workspace_path, { summarize, search });
		const info = lines.map((l) => ({ name: l.name, size: { raw: l.bytes, human_readable: humanSize(l.bytes) } }));
		return { workflow_id: wf.id, workflow_name: runName(wf), user: owner, disk_usage_info: info };
	});

	handle(app, "move_files", async ({ principal, params, query }) => {
		const wf = await runFor(ctx, principal, params.workflow_id_or_name, "workflow.write");
		refuseWhileActive(wf, "move files");
		await moveFile(wf.workspace_path, query.source, query.target);
		return {
			message: `${query.source} was successfully moved to ${query.target}.`,
			workflow_id: wf.id,
			workflow_name: runName(wf),
		};
	});

	handle(app, "prune_workspace", async ({ principal, params, query }) => {
		const wf = await runFor(ctx, principal, params.workflow_id_or_name, "workflow.write");
		refuseWhileActive(wf, "prune the workspace");
		const { spec } = decodeWorkflow(wf);
		const keep = [
			...(query.include_inputs
				? []
				: [
						...(spec.inputs?.files ?? []),
						...(spec.inputs?.directories ?? []),
						...remoteInputPaths(spec),
						stagedFolder,
					]),
			...(query.include_outputs ? [] : [...(spec.outputs?.files ?? []), ...(spec.outputs?.directories ?? [])]),
			...(spec.workflow.file && !query.include_inputs ? [spec.workflow.file] : []),
		];
		const removed = await pruneWorkspace(wf.workspace_path, keep);
		await remeasure(ctx.db, ctx.clock, wf);
		return {
			message: `The workspace of ${runName(wf)} was pruned: ${removed} file${removed === 1 ? "" : "s"} deleted.`,
			workflow_id: wf.id,
			workflow_name: runName(wf),
		};
	});
}
