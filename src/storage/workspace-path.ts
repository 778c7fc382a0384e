import { lstat, realpath } from "node:fs/promises";
import { isAbsolute, posix, relative, resolve, sep } from "node:path";
import { AppError } from "../common/index.js";

/** The folder inside every workspace that holds Orrery's own files (job folders); users cannot write there. */
export const internalDir = ".orrery";

/** A user-supplied path that was rejected: it would leave the workspace or touch Orrery's own files. */
export class UnsafePathError extends AppError {
	readonly path: string;
	constructor(path: string, reason: string) {
		super("validation_failed", `the path '${printable(path)}' is not allowed: ${reason}`);
		this.name = "UnsafePathError";
		this.path = path;
	}
}

function printable(path: string): string {
	return path.replace(/\0/g, "\\0").slice(0, 200);
}

/**
 * Checks a user-supplied relative path without touching the disk and returns it normalised
 * (`a//b/./c` → `a/b/c`; `""` and `.` mean the workspace itself). Rejects NUL bytes, absolute
 * paths, `..` segments and Orrery's internal folder.
 */
export function normaliseUserPath(path: string): string {
	if (path.includes("\0")) throw new UnsafePathError(path, "it contains a NUL byte");
	if (path.startsWith("/") || isAbsolute(path) || /^[a-zA-Z]:[\\/]/.test(path)) {
		throw new UnsafePathError(path, "absolute paths are not allowed; give a path relative to the workspace");
	}
	const parts = path.split("/").filter((p) => p !== "" && p !== ".");
	if (parts.includes("..")) throw new UnsafePathError(path, "'..' is not allowed; give a path inside the workspace");
	if (parts[0] === internalDir)
		throw new UnsafePathError(path, `'${internalDir}/' is reserved for Orrery's job folders`);
	return parts.join("/");
}

/** True when `child` is `parent` or lies below it (both absolute, resolved). */
export function isInside(parent: string, child: string): boolean {
	const rel = relative(parent, child);
	return rel === "" || (!rel.startsWith(`..${sep}`) && rel !== ".." && !isAbsolute(rel));
}

/**
 * Resolves a user-supplied path inside a workspace, following symlinks of every existing part:
 * a symlink that points outside the workspace is rejected. Returns the absolute path.
 */
export async function resolveInWorkspace(root: string, path: string): Promise<string> {
	const clean = normaliseUserPath(path);
	const realRoot = await realpath(root);
	const target = resolve(realRoot, clean);
	// Walk up to the deepest part that exists and check where it really is.
	let probe = target;
	for (;;) {
		try {
			await lstat(probe);
			break;
		} catch {
			const parent = resolve(probe, "..");
			if (parent === probe) break;
			probe = parent;
		}
	}
	const realProbe = await realpath(probe).catch(() => probe);
	if (!isInside(realRoot, realProbe)) {
		throw new UnsafePathError(path, "it leads outside the workspace through a symbolic link");
	}
	const rest = relative(probe, target);
	const resolved = rest ? resolve(realProbe, rest) : realProbe;
	if (posix.normalize(relative(realRoot, resolved)).split("/")[0] === internalDir) {
		throw new UnsafePathError(path, `'${internalDir}/' is reserved for Orrery's job folders`);
	}
	return resolved;
}

/**
 * Where the entry a user-supplied path names is, for removing it: its folder resolved like
 * `resolveInWorkspace`, its last part as it is (a symbolic link stays the link: deleting it removes
 * the link, never what it points to). Refuses the workspace itself and Orrery's own folder, however
 * reached.
 */
export async function locateInWorkspace(root: string, path: string): Promise<string> {
	const clean = normaliseUserPath(path);
	if (!clean) throw new UnsafePathError(path, "it names the workspace itself");
	const folder = posix.dirname(clean);
	const entry = resolve(await resolveInWorkspace(root, folder === "." ? "" : folder), posix.basename(clean));
	const rel = relative(await realpath(root), entry);
	if (rel === "" || rel.split(sep)[0] === internalDir) {
		throw new UnsafePathError(path, `'${internalDir}/' is reserved for Orrery's job folders`);
	}
	return entry;
}
