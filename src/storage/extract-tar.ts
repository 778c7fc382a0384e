import { mkdir } from "node:fs/promises";
import type { Readable } from "node:stream";
import { unpackTar } from "../archive/index.js";
import { normaliseUserPath, resolveInWorkspace } from "./workspace-path.js";

/** Options of an archive upload. */
export interface ExtractTarOptions {
	maxBytes?: number;
	signal?: AbortSignal;
}

/**
 * Unpacks a tar archive streamed into a workspace: every name is checked like any upload (no
 * absolute paths, no `..`, not Orrery's own folder) and every folder is resolved against the
 * workspace's symlinks before and after it is created.
 */
export function extractTar(
	root: string,
	body: Readable,
	options: ExtractTarOptions = {},
): Promise<{ files: number; bytes: number }> {
	return unpackTar(body, {
		...options,
		nameOf: normaliseUserPath,
		folderOf: async (dir) => {
			const abs = await resolveInWorkspace(root, dir);
			await mkdir(abs, { recursive: true });
			return resolveInWorkspace(root, dir); // again, now that it exists: it must not lead out
		},
	});
}
