import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { open, readdir, readFile, realpath, stat } from "node:fs/promises";
import { join, relative } from "node:path";
import { AppError } from "../common/index.js";
import { internalDir, isInside, UnsafePathError } from "./workspace-path.js";

/** What an engine needs to know about a path. */
export interface PathInfo {
	isDirectory: boolean;
	size: number;
}

/**
 * Read-only access to the files of one workspace, by absolute path, for engines that collect outputs
 * (CWL). Every path is checked first: a path (or a symlink) that leaves the workspace is refused.
 */
export interface WorkspaceFiles {
	readonly root: string;
	stat(path: string): Promise<PathInfo | undefined>;
	readText(path: string): Promise<string>;
	/** The first `bytes` bytes and whether the file is longer. */
	readHead(path: string, bytes: number): Promise<{ text: string; isTruncated: boolean }>;
	sha1(path: string): Promise<string>;
	list(dir: string): Promise<Array<{ name: string; isDirectory: boolean }>>;
}

/** The workspace files of a run. */
export function workspaceFiles(root: string): WorkspaceFiles {
	let realRoot: Promise<string> | undefined;
	// One realpath per access: it follows every symlink, so a link a tool made that leads out of the
	// workspace (or into Orrery's own folder) is refused like a path that does.
	const check = async (path: string): Promise<string> => {
		realRoot ??= realpath(root).catch(() => root);
		const rr = await realRoot;
		if (!isInside(root, path) && !isInside(rr, path)) {
			throw new AppError(
				"validation_failed",
				`${path} is outside the workflow's workspace; inputs must be files in the workspace`,
			);
		}
		const real = await realpath(path);
		if (!isInside(rr, real) || isInside(join(rr, internalDir), real)) {
			throw new UnsafePathError(relative(rr, real) || path, "it leads outside the workspace through a symbolic link");
		}
		return real;
	};
	return {
		root,
		async stat(path) {
			try {
				const s = await stat(await check(path));
				return { isDirectory: s.isDirectory(), size: s.size };
			} catch (error) {
				if ((error as NodeJS.ErrnoException).code === "ENOENT" || (error as NodeJS.ErrnoException).code === "ENOTDIR")
					return undefined;
				throw error;
			}
		},
		async readText(path) {
			return readFile(await check(path), "utf8");
		},
		async readHead(path, bytes) {
			const handle = await open(await check(path), "r");
			try {
				const buf = Buffer.alloc(bytes + 1);
				const { bytesRead } = await handle.read(buf, 0, bytes + 1, 0);
				return { text: buf.subarray(0, Math.min(bytesRead, bytes)).toString("utf8"), isTruncated: bytesRead > bytes };
			} finally {
				await handle.close();
			}
		},
		async sha1(path) {
			const hash = createHash("sha1");
			for await (const chunk of createReadStream(await check(path))) hash.update(chunk as Buffer);
			return hash.digest("hex");
		},
		async list(dir) {
			const entries = await readdir(await check(dir), { withFileTypes: true });
			const out: Array<{ name: string; isDirectory: boolean }> = [];
			for (const e of entries) {
				let isDirectory = e.isDirectory();
				if (e.isSymbolicLink()) {
					const target = await check(`${dir}/${e.name}`).catch(() => undefined);
					isDirectory = target ? ((await stat(target).catch(() => undefined))?.isDirectory() ?? false) : false;
				}
				out.push({ name: e.name, isDirectory });
			}
			return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
		},
	};
}
