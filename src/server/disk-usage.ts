import { globMatcherOf, isGlob, walkFiles } from "../storage/index.js";
import type { SearchFilter } from "./search-filter.js";

/** One line of REANA's `du`: a path below the workspace with a leading `/` (`""` is the workspace) and its bytes. */
export interface DiskUsageLine {
	name: string;
	bytes: number;
}

/**
 * A workspace's disk usage as REANA reports it (reana-commons `get_disk_usage`, which runs `du -a`,
 * or `du -s` to summarize): every file and folder, each folder with the total of the files below
 * it, contents before their folder and the workspace itself (`""`) last. Sizes are the files'
 * lengths in bytes (`du -ab`), not the blocks they take.
 *
 * `search` as reana-client's `--filter` sends it: each `name` is a path or a glob (any may match);
 * a folder's name stands for what it holds, as REANA globs `folder/*`; each matched path comes with
 * everything below it, or, summarized, as one line with its total. Each `size` is an exact number of
 * bytes (any may match). Plain text keeps the files and folders whose name contains it, ignoring
 * case; summarized, the total of those files.
 */
export async function diskUsageLines(
	root: string,
	options: { summarize: boolean; search: SearchFilter | undefined },
): Promise<DiskUsageLine[]> {
	const { files, totals } = await measure(root);
	const all = [...files.keys(), ...totals.keys()];
	const sizeOf = (name: string) => totals.get(name) ?? files.get(name) ?? 0;
	const { summarize, search } = options;
	let selected: string[];
	if (search?.kind === "text") {
		const needle = search.text.toLowerCase();
		const matching = all.filter((name) => name !== "" && name.toLowerCase().includes(needle));
		if (summarize) {
			const bytes = matching.reduce((n, name) => n + (files.get(name) ?? 0), 0);
			return [{ name: "", bytes }];
		}
		selected = matching;
	} else {
		const names = search?.fields.name;
		const sizes = search?.fields.size;
		if (!names) selected = summarize ? [""] : all;
		else {
			const roots = new Set(names.flatMap((pattern) => matchesOf(pattern, all, totals)));
			selected = summarize ? [...roots] : all.filter((name) => name !== "" && isWithin(name, roots));
		}
		if (sizes) selected = selected.filter((name) => sizes.includes(String(sizeOf(name))));
	}
	return selected.sort(duOrder).map((name) => ({ name: name === "" ? "" : `/${name}`, bytes: sizeOf(name) }));
}

/** The files of a workspace with their sizes, and the total of each folder (the workspace is `""`). */
async function measure(root: string): Promise<{ files: Map<string, number>; totals: Map<string, number> }> {
	const files = new Map<string, number>();
	const totals = new Map<string, number>([["", 0]]);
	for await (const e of walkFiles(root, "", true)) {
		if (e.isDirectory) {
			if (!totals.has(e.name)) totals.set(e.name, 0);
			continue;
		}
		files.set(e.name, e.size);
		for (let folder = parentOf(e.name); ; folder = parentOf(folder)) {
			totals.set(folder, (totals.get(folder) ?? 0) + e.size);
			if (folder === "") break;
		}
	}
	return { files, totals };
}

/** The paths one `name` of the filter matches: a file, what a folder holds, or what a glob matches. */
function matchesOf(pattern: string, all: readonly string[], totals: ReadonlyMap<string, number>): string[] {
	const clean = pattern.replace(/^\/+|\/+$/g, "");
	if (clean === "" || totals.has(clean)) return all.filter((name) => name !== "" && parentOf(name) === clean);
	if (!isGlob(clean)) return all.includes(clean) ? [clean] : [];
	const isMatch = globMatcherOf(clean);
	return all.filter((name) => name !== "" && isMatch(name));
}

/** True when a path is one of the roots or lies below one. */
function isWithin(name: string, roots: ReadonlySet<string>): boolean {
	for (let at = name; at !== ""; at = parentOf(at)) if (roots.has(at)) return true;
	return false;
}

function parentOf(name: string): string {
	const slash = name.lastIndexOf("/");
	return slash < 0 ? "" : name.slice(0, slash);
}

/** `du`'s order: what a folder holds before the folder, names in order within a folder. */
function duOrder(a: string, b: string): number {
	if (a === b) return 0;
	if (b === "" || a.startsWith(`${b}/`)) return -1;
	if (a === "" || b.startsWith(`${a}/`)) return 1;
	const as = a.split("/");
	const bs = b.split("/");
	for (let i = 0; ; i++) {
		const x = as[i] as string;
		const y = bs[i] as string;
		if (x !== y) return x < y ? -1 : 1;
	}
}
