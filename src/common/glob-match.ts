/**
 * Glob matching in time proportional to the name's length times the pattern's, for patterns users
 * write (workspace listings, downloads, retention rules, CWL output globs). A regular expression
 * made from `*a*a*a*a*a*a*b` backtracks exponentially: one request could hold the server for minutes.
 * Supported: `*`, `?`, `[…]` (`!`/`^` negates, ranges), `{a,b}` and `{1..3}` alternatives, `\`
 * escapes, and in whole paths `**` for any number of folders.
 */

/** The most alternatives the braces of one glob segment may expand to (`{a,b}{c,d}` is four). */
export const MAX_BRACE_ALTERNATIVES = 1024;

/** A glob whose braces expand to more than MAX_BRACE_ALTERNATIVES alternatives. */
export class GlobTooLargeError extends Error {
	constructor(segment: string) {
		super(`the braces of '${segment}' expand to more than ${MAX_BRACE_ALTERNATIVES} alternatives`);
		this.name = "GlobTooLargeError";
	}
}

/** How names starting with a dot are treated: POSIX glob (only by a pattern that starts with a dot), or like any other. */
export interface GlobOptions {
	/** True: `*` and `?` match a leading dot too (as picomatch's `dot`). Default false (POSIX). */
	dot?: boolean;
}

/** A matcher for one segment of a glob (no `/`); throws GlobTooLargeError for too many alternatives. */
export function globSegmentMatcher(segment: string, options: GlobOptions = {}): (name: string) => boolean {
	const alternatives = expandBraces(segment);
	if (alternatives.length > MAX_BRACE_ALTERNATIVES) throw new GlobTooLargeError(segment);
	const compiled = alternatives.map((alt) => {
		const tokens = tokensOf(alt);
		// As in POSIX glob, only a pattern that starts with a literal dot matches a name that does.
		const head = tokens[0];
		return { tokens, isDotAllowed: options.dot === true || (head?.kind === "char" && head.char === ".") };
	});
	return (name) =>
		compiled.some(({ tokens, isDotAllowed }) => (isDotAllowed || !name.startsWith(".")) && matchTokens(tokens, name));
}

/**
 * A matcher for a relative path (`results/*.csv`, `data/**`): segment by segment, `**` standing
 * for any number of folders (none too). Linear in the path's segments times the pattern's.
 */
export function globPathMatcher(pattern: string, options: GlobOptions = {}): (path: string) => boolean {
	const parts = pattern.split("/").filter((p) => p !== "");
	const segments = parts.map((p) => (p === "**" ? undefined : globSegmentMatcher(p, options)));
	return (path) => {
		const names = path.split("/").filter((p) => p !== "");
		// reach[j]: the pattern so far can end just before names[j].
		let reach = new Array<boolean>(names.length + 1).fill(false);
		reach[0] = true;
		for (const segment of segments) {
			const next = new Array<boolean>(names.length + 1).fill(false);
			if (segment === undefined) {
				let isOpen = false;
				for (let j = 0; j <= names.length; j++) {
					isOpen ||= reach[j] === true;
					// `**` does not enter dot folders unless dots are allowed
					next[j] = isOpen;
					if (isOpen && j < names.length && options.dot !== true && names[j]?.startsWith(".")) isOpen = false;
				}
			} else {
				for (let j = 0; j < names.length; j++) if (reach[j] && segment(names[j] as string)) next[j + 1] = true;
			}
			reach = next;
		}
		return reach[names.length] === true;
	};
}

type Token = { kind: "star" } | { kind: "any" } | { kind: "char"; char: string } | { kind: "class"; test: ClassTest };
type ClassTest = (c: string) => boolean;

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
				if (out.length > MAX_BRACE_ALTERNATIVES) return out;
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
	const count = Math.min(Math.abs(to - from) + 1, MAX_BRACE_ALTERNATIVES + 1);
	const step = from <= to ? 1 : -1;
	return Array.from({ length: count }, (_, k) => String(from + k * step));
}
