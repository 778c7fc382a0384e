import type { FastifyInstance } from "fastify";
import { AppError } from "../../common/index.js";
import type { WorkflowRow } from "../../db/index.js";
import { decodeWorkflow, remeasure, remoteInputPaths, runName } from "../../scheduler/index.js";
import { diskUsage, listFiles, moveFile, pruneWorkspace, stagedFolder } from "../../storage/index.js";
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
		const entry = (name: string, size: number) => ({ name, size: { raw: size, human_readable: humanSize(size) } });
		let info: Array<ReturnType<typeof entry>>;
		if (!search) {
			info = summarize
				? [entry("", await diskUsage(wf.workspace_path))]
				: (await listFiles(wf.workspace_path)).map((f) => entry(`/${f.name}`, f.size));
		} else if (search.kind === "text") {
			const needle = search.text.toLowerCase();
			const files = (await listFiles(wf.workspace_path)).filter((f) => f.name.toLowerCase().includes(needle));
			info = summarize
				? [
						entry(
							"",
							files.reduce((n, f) => n + f.size, 0),
						),
					]
				: files.map((f) => entry(`/${f.name}`, f.size));
		} else {
			// reana-commons' get_disk_usage: each name is a path, folder or glob (any may match); each
			// size is an exact size in bytes (any may match); one line per matching file.
			const { name: names, size: sizes } = search.fields;
			const kept = (size: number) => !sizes || sizes.includes(String(size));
			if (summarize && !names) {
				const total = await diskUsage(wf.workspace_path);
				info = kept(total) ? [entry("", total)] : [];
			} else {
				const byName = new Map<string, number>();
				for (const pattern of names ?? [""]) {
					for (const f of await listFiles(wf.workspace_path, pattern || undefined)) byName.set(f.name, f.size);
				}
				info = [...byName]
					.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
					.filter(([, size]) => kept(size))
					.map(([name, size]) => entry(`/${name}`, size));
			}
		}
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
