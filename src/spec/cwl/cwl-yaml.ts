import { type Document, isAlias, isMap, isScalar, isSeq, LineCounter, type Node } from "yaml";
import { valueNestingProblem } from "../nesting-limit.js";
import { type Problem, SpecError } from "../problem.js";
import { parseYamlDocument, type YamlDocumentOptions } from "../yaml-document.js";

/** Where a value of a CWL document was written. */
export interface SourceRef {
	file: string;
	line: number;
	column: number;
}

interface NodePlaces {
	self: SourceRef;
	/** Position of each value (maps) or item (sequences). */
	children: Map<string | number, SourceRef>;
	/** Position of each key (maps). */
	keys?: Map<string, SourceRef>;
}

const places = new WeakMap<object, NodePlaces>();

/** The largest CWL document (or `$include`d file) read, in bytes: far beyond any real one. */
export const MAX_DOCUMENT_BYTES = 16 * 1024 * 1024;

/**
 * How many nodes the aliases of one document may stand for, counted with repetition. Aliases are
 * shared, not copied, but whatever walks the document later visits each use: nine levels of
 * `&lN [*lN-1, … ten times]` fit in 620 bytes and stand for a billion nodes.
 */
export const MAX_ALIAS_NODES = 100_000;

/** A SpecError for one problem in a document. */
function documentError(
	file: string,
	line: number | undefined,
	column: number | undefined,
	message: string,
	hint: string,
): SpecError {
	return new SpecError([
		{
			severity: "error",
			file,
			...(line === undefined ? {} : { line, column: column ?? 1 }),
			path: "",
			message,
			hint,
		},
	]);
}

/** Refuses a document larger than MAX_DOCUMENT_BYTES, before anything parses it. */
export function checkDocumentSize(text: string, file: string, what = "the document"): void {
	// Each UTF-16 unit is at most three bytes of UTF-8; count exactly only when it might matter.
	if (text.length * 3 <= MAX_DOCUMENT_BYTES) return;
	const bytes = Buffer.byteLength(text);
	if (bytes > MAX_DOCUMENT_BYTES)
		throw documentError(
			file,
			undefined,
			undefined,
			`${what} is ${bytes} bytes, more than the limit of ${MAX_DOCUMENT_BYTES}`,
			"keep CWL documents and $include files under 16 MiB; pass large data as input files",
		);
}

/** The position of a parsed object, or of one of its fields or items when `field` is given. */
export function sourceOf(value: unknown, field?: string | number, isKey = false): SourceRef | undefined {
	if (typeof value !== "object" || value === null) return undefined;
	const p = places.get(value);
	if (!p) return undefined;
	if (field === undefined) return p.self;
	if (isKey && typeof field === "string") return p.keys?.get(field) ?? p.children.get(field) ?? p.self;
	return p.children.get(field) ?? p.self;
}

/** Copies the recorded position of one object to another (used when a document is rewritten). */
export function carrySource<T extends object>(from: unknown, to: T): T {
	if (typeof from === "object" && from !== null) {
		const p = places.get(from);
		if (p && !places.has(to)) places.set(to, p);
	}
	return to;
}

/** Gives a new object the position of the value at `field` of `parent` (for rewritten map forms). */
export function placeLike<T extends object>(to: T, parent: unknown, field: string | number): T {
	const from = typeof parent === "object" && parent !== null ? places.get(parent) : undefined;
	const at = from?.children.get(field) ?? from?.self;
	if (at && !places.has(to)) places.set(to, { self: at, children: new Map() });
	return to;
}

/**
 * Parses a YAML or JSON CWL document into plain values, remembering where each mapping and
 * sequence (and each of their keys) came from, so later errors can name the line.
 */
export function parseCwlText(text: string, file: string): unknown {
	checkDocumentSize(text, file);
	const parse = (source: string) => {
		const options: YamlDocumentOptions = {
			lineCounter: new LineCounter(),
			prettyErrors: false,
			uniqueKeys: true,
			merge: true,
		};
		const parsed = parseYamlDocument(source, file, options);
		if (parsed.problem) throw new SpecError([parsed.problem]);
		return { doc: parsed.doc, lineCounter: options.lineCounter };
	};
	let { doc, lineCounter } = parse(text);
	if (doc.errors.length > 0) {
		// PyYAML (and so most CWL documents) accepts flow collections whose lines are not indented
		// past their key; YAML 1.2 does not. Indent such lines and try again.
		const retry = parse(relaxFlowIndentation(text));
		if (retry.doc.errors.length === 0) ({ doc, lineCounter } = retry);
	}
	if (doc.errors.length > 0) {
		// Some valid JSON (tabs, long lines) upsets the YAML parser: accept it as JSON.
		const trimmed = text.trimStart();
		if (trimmed.startsWith("{") || trimmed.startsWith("[")) {
			let value: unknown;
			try {
				value = JSON.parse(text) as unknown;
			} catch {
				// report the YAML error below
			}
			if (value !== undefined) {
				const deep = valueNestingProblem(value, file);
				if (deep) throw new SpecError([deep]);
				return value;
			}
		}
		const problems: Problem[] = doc.errors.map((err) => {
			const pos = lineCounter.linePos(err.pos[0]);
			return {
				severity: "error",
				file,
				line: pos.line,
				column: pos.col,
				path: "",
				message: `invalid YAML: ${err.message.split("\n")[0] ?? err.message}`,
				hint: "check the indentation and quoting around this position",
			};
		});
		throw new SpecError(problems);
	}
	const at = (node: Node | null | undefined): SourceRef => {
		const pos = lineCounter.linePos(node?.range?.[0] ?? 0);
		return { file, line: pos.line, column: pos.col };
	};
	const seen = new Map<Node, unknown>();
	const sizes = new Map<Node, number>();
	let aliasNodes = 0;
	const convert = (node: unknown): unknown => {
		if (node === null || node === undefined) return null;
		if (isAlias(node)) {
			const target = node.resolve(doc);
			aliasNodes += target ? expandedSize(target, sizes, doc, node, at) : 0;
			if (aliasNodes > MAX_ALIAS_NODES) {
				const where = at(node);
				throw documentError(
					file,
					where.line,
					where.column,
					`the aliases of this document stand for more than ${MAX_ALIAS_NODES} values (at *${node.source})`,
					"repeat fewer or smaller anchored values; nested aliases multiply",
				);
			}
			return convert(target);
		}
		if (isScalar(node)) return node.value ?? null;
		if (isMap(node)) {
			const cached = seen.get(node);
			if (cached !== undefined) return cached;
			const out: Record<string, unknown> = {};
			seen.set(node, out);
			const children = new Map<string | number, SourceRef>();
			const keys = new Map<string, SourceRef>();
			for (const pair of node.items) {
				const key = isScalar(pair.key) ? String(pair.key.value) : String(convert(pair.key));
				out[key] = convert(pair.value);
				children.set(key, at((pair.value as Node | null) ?? (pair.key as Node)));
				keys.set(key, at(pair.key as Node));
			}
			places.set(out, { self: at(node), children, keys });
			return out;
		}
		if (isSeq(node)) {
			const cached = seen.get(node);
			if (cached !== undefined) return cached;
			const out: unknown[] = [];
			seen.set(node, out);
			const children = new Map<string | number, SourceRef>();
			node.items.forEach((item, i) => {
				out.push(convert(item));
				children.set(i, at(item as Node));
			});
			places.set(out, { self: at(node), children });
			return out;
		}
		return null;
	};
	return convert(doc.contents);
}

const inProgress = -1;

/**
 * How many nodes a node stands for once every alias inside it is expanded (memoised per node, so
 * this takes time linear in the document). An alias inside the node it names would never end.
 */
function expandedSize(
	node: Node,
	sizes: Map<Node, number>,
	doc: Document,
	from: Node,
	at: (node: Node) => SourceRef,
): number {
	const known = sizes.get(node);
	if (known !== undefined) {
		if (known === inProgress) {
			const where = at(from);
			throw documentError(
				where.file,
				where.line,
				where.column,
				`the alias *${isAlias(from) ? from.source : "?"} refers to a value that contains it`,
				"a CWL document is a tree: write the value out instead of referring to itself",
			);
		}
		return known;
	}
	if (isAlias(node)) {
		const target = node.resolve(doc);
		return target ? expandedSize(target, sizes, doc, node, at) : 1;
	}
	sizes.set(node, inProgress);
	let size = 1;
	if (isMap(node)) {
		for (const pair of node.items) {
			if (pair.key && typeof pair.key === "object")
				size += expandedSize(pair.key as Node, sizes, doc, pair.key as Node, at);
			if (pair.value && typeof pair.value === "object")
				size += expandedSize(pair.value as Node, sizes, doc, pair.value as Node, at);
		}
	} else if (isSeq(node)) {
		for (const item of node.items)
			if (item && typeof item === "object") size += expandedSize(item as Node, sizes, doc, item as Node, at);
	}
	// Capped so that sums of huge sizes stay exact enough to compare.
	const capped = Math.min(size, Number.MAX_SAFE_INTEGER);
	sizes.set(node, capped);
	return capped;
}

const blockScalarHeader = /[|>][+-]?\d*\s*(?:#.*)?$/y;

/** True when `line` from `i` on is a block scalar header (`|`, `>-`, `|2 # comment`). */
function isBlockScalarHeader(line: string, i: number): boolean {
	blockScalarHeader.lastIndex = i;
	return blockScalarHeader.test(line);
}

/**
 * Indents the continuation lines of multi-line flow collections (`[…]`, `{…}`) one column past the
 * line that opened them. Whitespace inside flow collections means nothing, so the values are unchanged.
 */
export function relaxFlowIndentation(text: string): string {
	const lines = text.split("\n");
	let depth = 0;
	let quote: string | undefined;
	let pad = "";
	let blockIndent = -1;
	return lines
		.map((line) => {
			const indent = line.length - line.trimStart().length;
			if (depth === 0 && quote === undefined) {
				if (blockIndent >= 0 && (line.trim() === "" || indent > blockIndent)) return line;
				blockIndent = -1;
			}
			const out = depth > 0 || quote !== undefined ? `${pad}${line}` : line;
			const startDepth = depth;
			let prev = "";
			// What the text before position i looks like, kept up to date as i advances (so the scan
			// stays linear: slicing the line and testing a regex at each bracket was quadratic).
			const before = { upTo: 0, nonSpace: 0, last: "", endsInSpace: false };
			const describeBefore = (i: number) => {
				for (; before.upTo < i; before.upTo++) {
					const ch = line[before.upTo] as string;
					before.endsInSpace = /\s/.test(ch);
					if (!before.endsInSpace) {
						before.nonSpace++;
						before.last = ch;
					}
				}
				return before;
			};
			// After `key: ` or `- ` (or nothing), as `/:\s+$|^\s*-\s+$/` says.
			const isAfterKeyOrDash = (i: number) => {
				const b = describeBefore(i);
				return b.endsInSpace && (b.last === ":" || (b.last === "-" && b.nonSpace === 1));
			};
			for (let i = 0; i < line.length; i++) {
				const c = line[i] as string;
				if (quote !== undefined) {
					if (c === quote) {
						if (quote === "'" && line[i + 1] === "'") i++;
						else quote = undefined;
					} else if (c === "\\" && quote === '"') i++;
				} else if (c === "#" && (i === 0 || /\s/.test(line[i - 1] as string))) {
					break;
				} else if (depth > 0) {
					if ((c === '"' || c === "'") && /^[[{,:\s]?$/.test(prev)) quote = c;
					else if (c === "[" || c === "{") depth++;
					else if (c === "]" || c === "}") depth--;
				} else if ((c === "[" || c === "{") && (describeBefore(i).nonSpace === 0 || isAfterKeyOrDash(i))) {
					depth = 1;
				} else if ((c === "|" || c === ">") && isAfterKeyOrDash(i) && isBlockScalarHeader(line, i)) {
					blockIndent = indent;
					break;
				}
				if (!/\s/.test(c)) prev = c;
			}
			if (startDepth === 0 && depth > 0) pad = " ".repeat(indent + 1);
			return out;
		})
		.join("\n");
}
