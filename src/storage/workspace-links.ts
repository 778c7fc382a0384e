import { copyFile, link, mkdir, realpath, rm, writeFile } from "node:fs/promises";
import { AppError } from "../common/index.js";
import { internalDir, isInside } from "./workspace-path.js";

/** Files to bring into a folder of a workspace: folders to make, texts to write, files to link from elsewhere in it. */
export interface WorkspaceLinks {
	folders: readonly string[];
	literals: ReadonlyArray<{ contents: string; target: string }>;
	links: ReadonlyArray<{ from: string; target: string }>;
}

/**
 * Makes files of a workspace appear at other places in it: hard links (no copy, and the originals stay
 * valid), a copy where the filesystem cannot link. A target that exists is replaced, so doing it again
 * gives the same result. Every path must be in the workspace and outside Orrery's own folder.
 */
export async function linkInWorkspace(workspace: string, plan: WorkspaceLinks): Promise<void> {
	const own = `${workspace}/${internalDir}`;
	const check = (path: string) => {
		if (!isInside(workspace, path) || isInside(own, path))
			throw new AppError("internal", `${path} is not a place in the workspace ${workspace}`);
	};
	for (const folder of plan.folders) check(folder);
	for (const { target } of plan.literals) check(target);
	for (const { from, target } of plan.links) {
		check(from);
		check(target);
	}
	for (const folder of plan.folders) await mkdir(folder, { recursive: true });
	for (const { contents, target } of plan.literals) await writeFile(target, contents);
	const realWorkspace = await realpath(workspace);
	for (const { from: given, target } of plan.links) {
		if (given === target) continue;
		// A link made to a symbolic link would be the link itself, whose relative target may not resolve
		// from its new place: link the file it leads to, which must be in the workspace too.
		const from = await realpath(given);
		if (!isInside(realWorkspace, from) || isInside(`${realWorkspace}/${internalDir}`, from))
			throw new AppError("validation_failed", `${given} leads outside the workspace through a symbolic link`);
		// Already there (the file is its own place): removing the target would remove the file.
		if (from === (await realpath(target).catch(() => undefined))) continue;
		await link(from, target).catch(async (error: NodeJS.ErrnoException) => {
			if (error.code === "ENOENT") throw error;
			await rm(target, { force: true });
			if (error.code === "EEXIST") await link(from, target).catch(() => copyFile(from, target));
			else await copyFile(from, target);
		});
	}
}
