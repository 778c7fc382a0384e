/** A file of a workspace listing (the API lists every file with its full path). */
export interface WorkspaceFile {
	name: string;
	size: { raw: number; human_readable: string };
	"last-modified": string;
}

/** What one folder of a workspace holds: its sub-folders (with totals) and its own files. */
export interface DirectoryListing {
	folders: { name: string; path: string; files: number; bytes: number }[];
	files: (WorkspaceFile & { base: string })[];
}

/** The contents of folder `dir` ("" for the top) built from a flat list of file paths. */
export function listDirectory(all: readonly WorkspaceFile[], dir: string): DirectoryListing {
	const prefix = dir === "" ? "" : `${dir.replace(/\/+$/, "")}/`;
	const folders = new Map<string, { name: string; path: string; files: number; bytes: number }>();
	const files: DirectoryListing["files"] = [];
	for (const f of all) {
		if (!f.name.startsWith(prefix)) continue;
		const rest = f.name.slice(prefix.length);
		const slash = rest.indexOf("/");
		if (slash < 0) {
			files.push({ ...f, base: rest });
			continue;
		}
		const name = rest.slice(0, slash);
		const folder = folders.get(name) ?? { name, path: prefix + name, files: 0, bytes: 0 };
		folder.files += 1;
		folder.bytes += Math.max(0, f.size.raw);
		folders.set(name, folder);
	}
	const byName = (a: { name: string }, b: { name: string }) => a.name.localeCompare(b.name);
	return {
		folders: [...folders.values()].sort(byName),
		files: files.sort((a, b) => a.base.localeCompare(b.base)),
	};
}

/** The folders from the top down to `dir`, for a breadcrumb. */
export function breadcrumb(dir: string): { name: string; path: string }[] {
	const parts = dir.split("/").filter(Boolean);
	return parts.map((name, i) => ({ name, path: parts.slice(0, i + 1).join("/") }));
}

/** Bytes as people read them (KiB, MiB, …). */
export function formatBytes(n: number): string {
	if (n < 1024) return `${n} B`;
	const units = ["KiB", "MiB", "GiB", "TiB"];
	let v = n / 1024;
	let u = 0;
	while (v >= 1024 && u < units.length - 1) {
		v /= 1024;
		u++;
	}
	return `${v < 10 ? v.toFixed(1) : Math.round(v)} ${units[u]}`;
}
