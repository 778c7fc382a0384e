import { dirname, join } from "node:path";

/** Where each File and Directory of an output object goes in a folder, and the object rewritten to point there. */
export interface OutputPlacement {
	/** The output object with every File's and Directory's `path` and `location` set to its place. */
	value: unknown;
	/** Files to bring in: the original value (with its `location` or `path`) and its place. */
	files: Array<{ source: Record<string, unknown>; target: string }>;
	/** Files given by their `contents` only (literals). */
	literals: Array<{ contents: string; target: string }>;
	/** Folders to make, parents first. */
	folders: string[];
}

/**
 * Places an output object's files in `dir` as cwltool's `--outdir` does: each File and Directory under
 * its basename; a name already taken goes to a numbered subfolder (`2/out.txt`); secondary files
 * beside their file; a Directory's listing inside it. Names are reduced to their last part, so no
 * place is outside `dir`. No file is touched: the caller copies, links or downloads. A value
 * `canPlace` refuses stays as it is.
 */
export function placeOutputs(
	value: unknown,
	dir: string,
	locate: (target: string) => string,
	canPlace: (file: Record<string, unknown>) => boolean = () => true,
): OutputPlacement {
	const placement: OutputPlacement = { value: undefined, files: [], literals: [], folders: [] };
	placement.value = place(value, dir, newTaken(), { out: placement, locate, canPlace });
	return placement;
}

interface Context {
	out: OutputPlacement;
	locate: (target: string) => string;
	/** False for a value that stays where it is (e.g. a file that is not on this machine). */
	canPlace: (file: Record<string, unknown>) => boolean;
}

interface Taken {
	paths: Set<string>;
	next: Map<string, number>;
}

function newTaken(): Taken {
	return { paths: new Set(), next: new Map() };
}

function place(value: unknown, dir: string, used: Taken, ctx: Context): unknown {
	const { out } = ctx;
	if (Array.isArray(value)) return value.map((v) => place(v, dir, used, ctx));
	if (typeof value !== "object" || value === null) return value;
	const obj = value as Record<string, unknown>;
	if (obj.class !== "File" && obj.class !== "Directory") {
		return Object.fromEntries(Object.entries(obj).map(([k, v]) => [k, place(v, dir, used, ctx)]));
	}
	if (!ctx.canPlace(obj)) return obj;
	const name = safeName(obj.basename ?? obj.path ?? obj.location);
	const first = join(dir, name);
	let target = first;
	let n = used.next.get(first) ?? 2;
	while (used.paths.has(target)) target = join(dir, String(n++), name);
	used.next.set(first, n);
	used.paths.add(target);
	if (dirname(target) !== dir) out.folders.push(dirname(target));
	const placed: Record<string, unknown> = { ...obj, location: ctx.locate(target), path: target, basename: name };
	if (obj.class === "File") {
		if (typeof obj.location === "string" || typeof obj.path === "string") out.files.push({ source: obj, target });
		else out.literals.push({ contents: String(obj.contents ?? ""), target });
		if (Array.isArray(obj.secondaryFiles))
			placed.secondaryFiles = place(obj.secondaryFiles, dirname(target), used, ctx);
	} else {
		out.folders.push(target);
		if (Array.isArray(obj.listing)) placed.listing = place(obj.listing, target, newTaken(), ctx);
	}
	return placed;
}

/** The last part of a name or path, never empty, `.` or `..`. */
function safeName(raw: unknown): string {
	const text = typeof raw === "string" ? raw : "output";
	const last =
		text
			.split(/[/\\]/)
			.filter((p) => p !== "")
			.pop() ?? "";
	return last === "" || last === "." || last === ".." ? "output" : last;
}
