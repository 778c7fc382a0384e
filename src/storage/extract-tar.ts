import { lstat } from "node:fs/promises";
import type { Readable } from "node:stream";
import { stagedFolders, unpackTar } from "../archive/index.js";
import { AppError } from "../common/index.js";
import { normaliseUserPath, resolveInWorkspace } from "./workspace-path.js";

/** Options of an archive upload. */
export interface ExtractTarOptions {
	maxBytes?: number;
	signal?: AbortSignal;
}

/**
 * Unpacks a tar archive streamed into a workspace: every name is checked like any upload (no
 * absolute paths, no `..`, not Orrery's own folder) and every folder is resolved against the
 * workspace's symlinks. A folder the workspace lacks is unpacked out of sight and moved into place
 * once the archive is complete (see `stagedFolders`); files for folders that exist are written
 * beside their place and renamed, one by one. A failed upload leaves nothing half-written.
 */
export async function extractTar(
	root: string,
	body: Readable,
	options: ExtractTarOptions = {},
): Promise<{ files: number; bytes: number }> {
	const folders = stagedFolders(async (dir) => {
		const abs = await resolveInWorkspace(root, dir);
		const s = await lstat(abs).catch(() => undefined);
		if (!s) return undefined;
		if (!s.isDirectory()) throw new AppError("validation_failed", `${dir} is a file in the workspace, not a folder`);
		return abs;
	});
	try {
		const result = await unpackTar(body, { ...options, nameOf: normaliseUserPath, folderOf: folders.folderOf });
		await folders.commit();
		return result;
	} catch (error) {
		await folders.abandon();
		throw error;
	}
}
