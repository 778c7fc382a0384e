import { posix } from "node:path";
import picomatch from "picomatch";
import type { WorkspaceFiles } from "../../storage/index.js";
import { CwlRunError } from "./run-environment.js";

/** The most paths one output glob may match: each becomes a File value with a checksum. */
export const MAX_GLOB_MATCHES = 100_000;

/** The most alternatives the braces of one glob segment may expand to (`{a,b}{c,d}` is four). */
const maxBraceAlternatives = 1024;

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

type Token = { kind: "star" } | { kind: "any" } | { kind: "char"; char: string } | { kind: "class"; test: ClassTest };
type ClassTest = (c: string) => boolean;

/**
 * A matcher for one segment of a glob (no `/`). It compares in time proportional to the name's length
 * times the pattern's: a regular expression for `*a*a*a*a*a*a*b` backtracks exponentially instead.
 */
export function globSegmentMatcher(segment: string, where: string): (name: string) => boolean {
	const alternatives = expandBraces(segment);
	if (alternatives.length > maxBraceAlternatives)
		throw new CwlRunError(
			`${where}: the braces of '${segment}' expand to more than ${maxBraceAlternatives} alternatives`,
		);
	const compiled = alternatives.map((alt) => {
		const tokens = tokensOf(alt);
		// As in POSIX glob, only a pattern that starts with a literal dot matches a name that does.
		const head = tokens[0];
		return { tokens, isDotAllowed: head?.kind === "char" && head.char === "." };
	});
	return (name) =>
		compiled.some(({ tokens, isDotAllowed }) => (isDotAllowed || !name.startsWith(".")) && matchTokens(tokens, name));
}

/** Star-and-backtrack-once matching: on a mismatch only the last `*` takes one more character. */
function matchTokens(tokens: readonly Token[], name: string): boolean {
	let t = 0;
	let n = 0;
	let starAt = -1;
	let starName = 0;
	while (n < name.length) {
		const token = tokens[t];
		if (token !== undefined && token.kind === "star") {
			starAt = t++;
			starName = n;
		} else if (token !== undefined && matchesOne(token, name[n] as string)) {
			t++;
			n++;
		} else if (starAt >= 0) {
			t = starAt + 1;
			n = ++starName;
		} else {
			return false;
		}
	}
	while (tokens[t]?.kind === "star") t++;
	return t === tokens.length;
}

function matchesOne(token: Exclude<Token, { kind: "star" }>, c: string): boolean {
	if (token.kind === "any") return true;
	if (token.kind === "char") return token.char === c;
	return token.test(c);
}

/** Splits a brace-free segment into characters, `?`, `*` (runs collapsed) and `[…]` classes. */
function tokensOf(pattern: string): Token[] {
	const tokens: Token[] = [];
	for (let i = 0; i < pattern.length; i++) {
		const c = pattern[i] as string;
		if (c === "\\" && i + 1 < pattern.length) {
			tokens.push({ kind: "char", char: pattern[++i] as string });
		} else if (c === "*") {
			if (tokens.at(-1)?.kind !== "star") tokens.push({ kind: "star" });
		} else if (c === "?") {
			tokens.push({ kind: "any" });
		} else if (c === "[") {
			const parsed = classAt(pattern, i);
			if (parsed) {
				tokens.push({ kind: "class", test: parsed.test });
				i = parsed.end;
			} else {
				tokens.push({ kind: "char", char: c });
			}
		} else {
			tokens.push({ kind: "char", char: c });
		}
	}
	return tokens;
}

/** The class `[…]` that opens at `start` (`!` or `^` negates, `a-z` ranges), or nothing when it does not close. */
function classAt(pattern: string, start: number): { test: ClassTest; end: number } | undefined {
	let i = start + 1;
	const isNegated = pattern[i] === "!" || pattern[i] === "^";
	if (isNegated) i++;
	const ranges: Array<[string, string]> = [];
	let isFirst = true;
	for (; i < pattern.length; i++) {
		let c = pattern[i] as string;
		if (c === "]" && !isFirst) {
			const test: ClassTest = (x) => ranges.some(([lo, hi]) => x >= lo && x <= hi) !== isNegated;
			return { test, end: i };
		}
		isFirst = false;
		if (c === "\\" && i + 1 < pattern.length) c = pattern[++i] as string;
		if (pattern[i + 1] === "-" && i + 2 < pattern.length && pattern[i + 2] !== "]") {
			let hi = pattern[i + 2] as string;
			i += 2;
			if (hi === "\\" && i + 1 < pattern.length) hi = pattern[++i] as string;
			ranges.push([c, hi]);
		} else {
			ranges.push([c, c]);
		}
	}
	return undefined;
}

/** Expands `{a,b}` alternatives (nested too); stops early once there are too many to use. */
function expandBraces(pattern: string): string[] {
	const open = findBraceGroup(pattern);
	if (!open) return [pattern];
	const { start, end, options } = open;
	const head = pattern.slice(0, start);
	const tails = expandBraces(pattern.slice(end + 1));
	const out: string[] = [];
	for (const option of options) {
		for (const inner of expandBraces(option)) {
			for (const tail of tails) {
				out.push(`${head}${inner}${tail}`);
				if (out.length > maxBraceAlternatives) return out;
			}
		}
	}
	return out;
}

/**
 * The first `{…}` with a comma of its own (or a range `{1..3}`), and its options. One pass pairs
 * the braces; escaped and unpaired ones stay literal, as do groups without a comma (`{a}`).
 */
function findBraceGroup(pattern: string): { start: number; end: number; options: string[] } | undefined {
	const open: Array<{ start: number; commas: number[] }> = [];
	let first: { start: number; end: number; options: string[] } | undefined;
	for (let i = 0; i < pattern.length; i++) {
		const c = pattern[i];
		if (c === "\\") i++;
		else if (c === "{") open.push({ start: i, commas: [] });
		else if (c === "," && open.length > 0) open.at(-1)?.commas.push(i);
		else if (c === "}" && open.length > 0) {
			const group = open.pop() as { start: number; commas: number[] };
			if (first && first.start < group.start) continue;
			const options = optionsOf(pattern, group.start, group.commas, i);
			if (options) first = { start: group.start, end: i, options };
		}
	}
	return first;
}

function optionsOf(pattern: string, start: number, commas: readonly number[], end: number): string[] | undefined {
	if (commas.length > 0) {
		const bounds = [start, ...commas, end];
		return bounds.slice(1).map((b, k) => pattern.slice((bounds[k] as number) + 1, b));
	}
	const range = /^(-?\d{1,9})\.\.(-?\d{1,9})$/.exec(pattern.slice(start + 1, end));
	if (!range) return undefined;
	const from = Number(range[1]);
	const to = Number(range[2]);
	const count = Math.min(Math.abs(to - from) + 1, maxBraceAlternatives + 1);
	const step = from <= to ? 1 : -1;
	return Array.from({ length: count }, (_, k) => String(from + k * step));
}
