import { posix } from "node:path";
import picomatch from "picomatch";
import type { WorkspaceFiles } from "../../storage/index.js";
import { CwlRunError } from "./run-environment.js";

/**
 * Expands a glob pattern against the output directory, as POSIX glob does (no `**`, `*` does not
 * match a leading dot). Absolute patterns must lie inside the output directory. Matches come sorted.
 */
export async function globOutputs(pattern: string, outdir: string, files: WorkspaceFiles): Promise<string[]> {
	let rel = pattern;
	if (rel.startsWith("/")) {
		if (rel === outdir) return [outdir];
		if (!rel.startsWith(`${outdir}/`))
			throw new CwlRunError(`the output glob ${pattern} points outside the output directory`);
		rel = rel.slice(outdir.length + 1);
	}
	rel = rel.replace(/^(\.\/)+/, "");
	if (rel === "." || rel === "" || rel === "./") return [outdir];
	const parts = rel.split("/").filter((p) => p !== "" && p !== ".");
	if (parts.includes("..")) throw new CwlRunError(`the output glob ${pattern} must not contain '..'`);
	let current = [outdir];
	for (const part of parts) {
		const next: string[] = [];
		if (!picomatch.scan(part).isGlob) {
			const unescaped = part.replace(/\\(.)/g, "$1");
			for (const dir of current) {
				const p = posix.join(dir, unescaped);
				if (await files.stat(p)) next.push(p);
			}
		} else {
			const isMatch = picomatch(part, { dot: part.startsWith("."), nobrace: false, noextglob: true });
			for (const dir of current) {
				const info = await files.stat(dir);
				if (!info?.isDirectory) continue;
				for (const e of await files.list(dir)) if (isMatch(e.name)) next.push(posix.join(dir, e.name));
			}
		}
		current = next;
		if (current.length === 0) break;
	}
	return current.sort();
}
