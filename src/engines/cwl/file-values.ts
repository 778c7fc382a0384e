import { posix } from "node:path";
import { pathToUri, uriToPath } from "../../spec/index.js";

/** A CWL `File` or `Directory` object (plain data, as in input and output objects). */
export type FileValue = Record<string, unknown> & { class: "File" | "Directory" };

/** True for a CWL File object. */
export function isFile(value: unknown): value is FileValue & { class: "File" } {
	return typeof value === "object" && value !== null && (value as { class?: unknown }).class === "File";
}

/** True for a CWL Directory object. */
export function isDirectory(value: unknown): value is FileValue & { class: "Directory" } {
	return typeof value === "object" && value !== null && (value as { class?: unknown }).class === "Directory";
}

/** True for a CWL File or Directory object. */
export function isFileOrDirectory(value: unknown): value is FileValue {
	return isFile(value) || isDirectory(value);
}

/** `nameroot` and `nameext` of a base name (`a.tar.gz` → `a.tar`, `.gz`; `.bashrc` → `.bashrc`, ``). */
export function splitName(basename: string): { nameroot: string; nameext: string } {
	const dot = basename.lastIndexOf(".");
	if (dot <= 0) return { nameroot: basename, nameext: "" };
	return { nameroot: basename.slice(0, dot), nameext: basename.slice(dot) };
}

/** The name of a secondary file: `.bai` appends, each leading `^` first strips one extension. */
export function secondaryName(primaryBasename: string, pattern: string): string {
	let base = primaryBasename;
	let p = pattern;
	while (p.startsWith("^")) {
		const dot = base.lastIndexOf(".");
		if (dot > 0) base = base.slice(0, dot);
		p = p.slice(1);
	}
	return base + p;
}

/** The absolute path of a File/Directory, from `path` or a `file:` location. */
export function pathOfValue(value: FileValue): string | undefined {
	if (typeof value.path === "string" && value.path.startsWith("/")) return value.path;
	if (typeof value.location === "string" && value.location.startsWith("file:")) return uriToPath(value.location);
	return undefined;
}

/** Sets `location`, `path`, `basename`, `dirname`, `nameroot` and `nameext` of a value at an absolute path. */
export function placeAt(value: FileValue, path: string): FileValue {
	const out: FileValue = { ...value, location: pathToUri(path), path };
	out.basename = posix.basename(path);
	out.dirname = posix.dirname(path);
	if (value.class === "File") Object.assign(out, splitName(out.basename as string));
	return out;
}

/** Fills the name fields from what a value already has (`basename` wins over the path's). */
export function withNameFields(value: FileValue): FileValue {
	const out: FileValue = { ...value };
	const path = pathOfValue(value);
	if (path) {
		out.path = path;
		out.location = pathToUri(path);
		out.dirname ??= posix.dirname(path);
	}
	if (typeof out.basename !== "string") {
		if (path) out.basename = posix.basename(path);
		else if (typeof value.location === "string") out.basename = posix.basename(value.location.replace(/[?#].*$/, ""));
	}
	if (value.class === "File" && typeof out.basename === "string") Object.assign(out, splitName(out.basename));
	return out;
}

/** Maps every File and Directory in a value (records, lists, secondaryFiles and listings included), depth first. */
export async function mapFileValues(value: unknown, fn: (file: FileValue) => Promise<FileValue>): Promise<unknown> {
	if (Array.isArray(value)) {
		const out: unknown[] = [];
		for (const v of value) out.push(await mapFileValues(v, fn));
		return out;
	}
	if (typeof value !== "object" || value === null) return value;
	if (isFileOrDirectory(value)) {
		const copy: FileValue = { ...value };
		if (Array.isArray(copy.secondaryFiles)) copy.secondaryFiles = await mapFileValues(copy.secondaryFiles, fn);
		if (Array.isArray(copy.listing)) copy.listing = await mapFileValues(copy.listing, fn);
		return fn(copy);
	}
	const out: Record<string, unknown> = {};
	for (const [k, v] of Object.entries(value)) out[k] = await mapFileValues(v, fn);
	return out;
}

/** Calls `fn` for every File and Directory in a value (secondaryFiles and listings included). */
export function visitFileValues(value: unknown, fn: (file: FileValue) => void): void {
	if (Array.isArray(value)) {
		for (const v of value) visitFileValues(v, fn);
		return;
	}
	if (typeof value !== "object" || value === null) return;
	if (isFileOrDirectory(value)) {
		fn(value);
		if (Array.isArray(value.secondaryFiles)) visitFileValues(value.secondaryFiles, fn);
		if (Array.isArray(value.listing)) visitFileValues(value.listing, fn);
		return;
	}
	for (const v of Object.values(value)) visitFileValues(v, fn);
}
