import { posix } from "node:path";
import picomatch from "picomatch";
import { GlobTooLargeError, globSegmentMatcher as matchSegment } from "../../common/index.js";
import type { WorkspaceFiles } from "../../storage/index.js";
import { CwlRunError } from "./run-environment.js";

/** The most paths one output glob may match: each becomes a File value with a checksum. */
export const MAX_GLOB_MATCHES = 100_000;

/** Directory entries matched between two yields to the event loop, so one huge listing cannot stall the server. */
const entriesPerYield = 2048;

/**
 * Expands a glob pattern against the output directory, as POSIX glob does (no `**`, `*` does not
 * match a leading dot), with `{a,b}` alternatives. Absolute patterns must lie inside the output
 * directory. Matches come sorted. `where` starts the error messages (the output and its field).
 */
export async function globOutputs(
	pattern: string,
	outdir: string,
	files: WorkspaceFiles,
	where = `the output glob ${pattern}`,
): Promise<string[]> {
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
	const tooMany = () =>
		new CwlRunError(`${where}: '${pattern}' matches more than ${MAX_GLOB_MATCHES} paths, the limit per output`);
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
			const isMatch = globSegmentMatcher(part, where);
			for (const dir of current) {
				const info = await files.stat(dir);
				if (!info?.isDirectory) continue;
				const entries = await files.list(dir);
				for (let i = 0; i < entries.length; i++) {
					if (i > 0 && i % entriesPerYield === 0) await new Promise((resolve) => setImmediate(resolve));
					const e = entries[i] as { name: string };
					if (!isMatch(e.name)) continue;
					if (next.length >= MAX_GLOB_MATCHES) throw tooMany();
					next.push(posix.join(dir, e.name));
				}
			}
		}
		current = next;
		if (current.length === 0) break;
	}
	return current.sort();
}

/** A segment matcher (common/glob-match.ts) whose errors name the output. */
export function globSegmentMatcher(segment: string, where: string): (name: string) => boolean {
	try {
		return matchSegment(segment);
	} catch (error) {
		if (error instanceof GlobTooLargeError) throw new CwlRunError(`${where}: ${error.message}`);
		throw error;
	}
}
