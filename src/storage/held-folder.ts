import { constants, existsSync } from "node:fs";
import { type FileHandle, mkdir, open, realpath } from "node:fs/promises";
import { join } from "node:path";
import { AppError } from "../common/index.js";

const folderFlags = constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW;

/** Linux gives every open descriptor a path (`/proc/self/fd/N`) that leads to what it holds. */
const hasProcFds = existsSync("/proc/self/fd");

/**
 * A folder of a workspace held open, so that files are made, renamed and removed in that very folder
 * even while processes that may write the workspace (a job still running, a sibling job of the run)
 * rename folders or put links on the way. Node has no `openat`: each part of the path is opened in turn
 * without following a link, through the folder before it (`/proc/self/fd/N/part`), and `at(name)`
 * names an entry of the folder the same way. Where there is no /proc (a developer's Mac, one user),
 * the folder's real path is checked instead, once.
 */
export class HeldFolder {
	private constructor(
		private readonly handle: FileHandle | undefined,
		private readonly path: string,
	) {}

	/**
	 * Opens `folder` (relative, `/` separators, "" for the root itself) below `root` (a real path the
	 * server owns), making the missing parts when `create` is set. A part that is a link or no folder
	 * is refused (`validation_failed`), as is a folder that is not there when `create` is not set.
	 */
	static async open(root: string, folder: string, create: boolean): Promise<HeldFolder> {
		const parts = folder.split("/").filter((p) => p !== "" && p !== ".");
		const refuse = (why: string) =>
			new AppError("validation_failed", `the folder '${folder}' ${why}; the workspace was left as it was`);
		if (parts.includes("..")) throw refuse("leads outside the workspace");
		if (!hasProcFds) {
			const path = join(root, ...parts);
			if (create) await mkdir(path, { recursive: true });
			const real = await realpath(path).catch(() => undefined);
			if (real !== join(await realpath(root), ...parts)) throw refuse("is not a plain folder of the workspace");
			return new HeldFolder(undefined, real);
		}
		let handle = await open(root, folderFlags);
		try {
			for (const part of parts) {
				const next = `/proc/self/fd/${handle.fd}/${part}`;
				let child: FileHandle;
				try {
					child = await open(next, folderFlags);
				} catch (error) {
					const code = (error as NodeJS.ErrnoException).code;
					if (code === "ENOENT" && create) {
						await mkdir(next).catch((e: NodeJS.ErrnoException) => {
							if (e.code !== "EEXIST") throw e;
						});
						child = await open(next, folderFlags);
					} else if (code === "ENOENT") throw refuse("does not exist");
					else if (code === "ELOOP" || code === "ENOTDIR") throw refuse("leads through a link or a file");
					else throw error;
				}
				await handle.close();
				handle = child;
			}
		} catch (error) {
			await handle.close().catch(() => undefined);
			throw error;
		}
		return new HeldFolder(handle, `/proc/self/fd/${handle.fd}`);
	}

	/** A path naming the entry `name` of this folder (never through a link on the way to it). */
	at(name: string): string {
		if (name === "" || name === "." || name === ".." || name.includes("/"))
			throw new AppError("internal", `'${name}' is no name of an entry`);
		return `${this.path}/${name}`;
	}

	async close(): Promise<void> {
		await this.handle?.close();
	}
}
