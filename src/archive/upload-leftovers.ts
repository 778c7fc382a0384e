import { lstat, readdir, rm } from "node:fs/promises";
import { join } from "node:path";

/**
 * The hidden names transfers write under before a file or folder is complete: `.<uuid>.upload` (one
 * file), `.<name>.<tag>-<n>.upload` (a file of an archive) and `.<name>.<tag>.upload` (a folder of an
 * archive), the tag being 8 hex digits. A process killed in the middle of a transfer leaves them.
 */
const leftoverName =
	/^\.(?:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|.+\.[0-9a-f]{8}(?:-\d+)?)\.upload$/;

/** Whether a name is one of the temporary names a transfer writes under. */
export function isUploadLeftover(name: string): boolean {
	return leftoverName.test(name);
}

/**
 * How long a temporary entry must have been left untouched before it counts as abandoned. A transfer
 * in progress touches its entries as it writes (a folder's time changes with each entry made in it);
 * an hour is far beyond any pause of a live one, and another server sharing the folder is as safe.
 */
export const leftoverAgeMs = 60 * 60 * 1000;

/** When each folder was last swept (by this process), so that a folder is read at most once an hour. */
const swept = new Map<string, number>();
const sweptRemembered = 10_000;

/**
 * Removes abandoned temporary entries of transfers from one folder: names of the shapes above,
 * untouched for `leftoverAgeMs`. Links are never followed or removed (a transfer never makes one).
 * Reads a given folder at most once per `leftoverAgeMs` (uploads of many single files into one large
 * folder would otherwise list it each time). Failures are ignored: sweeping is housekeeping, never a
 * reason for a transfer to fail. Returns the names removed.
 */
export async function sweepUploadLeftovers(dir: string, now = Date.now()): Promise<string[]> {
	const last = swept.get(dir);
	if (last !== undefined && now - last < leftoverAgeMs) return [];
	if (swept.size >= sweptRemembered) swept.clear();
	swept.set(dir, now);
	const removed: string[] = [];
	const names = await readdir(dir).catch(() => [] as string[]);
	for (const name of names) {
		if (!isUploadLeftover(name)) continue;
		const path = join(dir, name);
		const s = await lstat(path).catch(() => undefined);
		if (!s || s.isSymbolicLink() || now - s.mtimeMs < leftoverAgeMs) continue;
		await rm(path, { recursive: true, force: true }).then(
			() => removed.push(name),
			() => undefined,
		);
	}
	return removed;
}

/** Forgets which folders were swept (tests). */
export function forgetSweptFolders(): void {
	swept.clear();
}
