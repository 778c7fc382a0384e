import type { WorkflowRow } from "../db/index.js";
import { remeasure } from "../scheduler/index.js";
import type { WorkflowType } from "../spec/index.js";
import { removeFolder } from "../storage/index.js";
import type { ServerContext } from "./server-context.js";

/**
 * After a run is deleted: when other runs keep its workspace (a restart runs in its parent's
 * workspace), removes the folders that held this run's files only, as its engine names them (a CWL
 * run's `cwl-work/<run id>/`), and measures the workspace again. A workspace that no run uses any
 * more was removed whole with the run. What cannot be removed is logged; the run stays deleted.
 */
export async function removeRunFolders(
	ctx: ServerContext,
	run: Pick<WorkflowRow, "id" | "type" | "workspace_path">,
): Promise<void> {
	const folders = ctx.runs.engines.get(run.type as WorkflowType)?.runFolders?.(run.id) ?? [];
	if (folders.length === 0) return;
	const sharing = await ctx.db.kysely
		.selectFrom("workflows")
		.selectAll()
		.where("workspace_path", "=", run.workspace_path)
		.where("status", "!=", "deleted")
		.orderBy("created_at", "desc")
		.executeTakeFirst();
	if (!sharing) return;
	let isRemoved = false;
	for (const folder of folders) {
		try {
			isRemoved = (await removeFolder(run.workspace_path, folder)) || isRemoved;
		} catch (error) {
			ctx.logger.warn({ err: error, workflow: run.id, folder }, "could not remove the folder of a deleted run");
		}
	}
	if (isRemoved) await remeasure(ctx.db, ctx.clock, sharing);
}
