/** One `$(…)` or `${…}` found in a string, with where it starts and ends. */
export interface ExpressionPart {
	kind: "paren" | "brace";
	start: number;
	end: number;
	/** The code between the delimiters. */
	code: string;
}

/** A string split into literal text and expressions; `\$(` escapes an expression, `\\` a backslash. */
export type Segment = { text: string } | { expr: ExpressionPart };

/** Splits a string into literal text and `$(…)`/`${…}` expressions. */
export function scanExpressions(text: string): Segment[] {
	const out: Segment[] = [];
	let literal = "";
	let i = 0;
	while (i < text.length) {
		const c = text[i];
		// `\\` is a backslash and `\$(` a literal `$(`; any other backslash stays as it is.
		if (c === "\\" && text[i + 1] === "\\") {
			literal += "\\";
			i += 2;
			continue;
		}
		if (c === "\\" && text[i + 1] === "$" && (text[i + 2] === "(" || text[i + 2] === "{")) {
			literal += "$";
			i += 2;
			continue;
		}
		if (c === "$" && (text[i + 1] === "(" || text[i + 1] === "{")) {
			const end = matchingClose(text, i + 1);
			if (end < 0) throw new SyntaxError(`the expression starting at '${text.slice(i, i + 30)}' is not closed`);
			if (literal) out.push({ text: literal });
			literal = "";
			out.push({
				expr: { kind: text[i + 1] === "(" ? "paren" : "brace", start: i, end: end + 1, code: text.slice(i + 2, end) },
			});
			i = end + 1;
			continue;
		}
		literal += c;
		i++;
	}
	if (literal) out.push({ text: literal });
	return out;
}

/** The index of the bracket closing the one at `open`, skipping JavaScript strings; -1 if unbalanced. */
function matchingClose(text: string, open: number): number {
	const stack: string[] = [];
	for (let i = open; i < text.length; i++) {
		const c = text[i] as string;
		if (c === "'" || c === '"' || c === "`") {
			i = skipString(text, i, c);
			continue;
		}
		if (c === "(" || c === "{" || c === "[") stack.push(c);
		else if (c === ")" || c === "}" || c === "]") {
			const want = c === ")" ? "(" : c === "}" ? "{" : "[";
			if (stack.pop() !== want) return -1;
			if (stack.length === 0) return i;
		}
	}
	return -1;
}

function skipString(text: string, start: number, quote: string): number {
	for (let i = start + 1; i < text.length; i++) {
		if (text[i] === "\\") i++;
		else if (text[i] === quote) return i;
	}
	return text.length;
}

/** A step of a parameter reference: a field name or an index. */
type Step = { field: string } | { index: number };

/**
 * Parses a parameter reference (`inputs.reads[0].path`, `self['a b']`, `runtime.outdir`), the
 * expression language CWL allows without InlineJavascriptRequirement. Undefined when it is not one.
 */
export function parseParameterReference(code: string): { root: string; steps: Step[] } | undefined {
	const src = code.trim();
	const head = /^[A-Za-z_][A-Za-z0-9_]*/.exec(src);
	if (!head) return undefined;
	const steps: Step[] = [];
	let i = head[0].length;
	while (i < src.length) {
		if (src[i] === ".") {
			const m = /^[A-Za-z_][A-Za-z0-9_-]*/.exec(src.slice(i + 1));
			if (!m) return undefined;
			steps.push({ field: m[0] });
			i += 1 + m[0].length;
			continue;
		}
		if (src[i] === "[") {
			const rest = src.slice(i);
			const num = /^\[\s*(\d+)\s*\]/.exec(rest);
			if (num) {
				steps.push({ index: Number(num[1]) });
				i += num[0].length;
				continue;
			}
			const str = /^\[\s*(['"])((?:\\.|(?!\1).)*)\1\s*\]/.exec(rest);
			if (str) {
				steps.push({ field: (str[2] as string).replace(/\\(.)/g, "$1") });
				i += str[0].length;
				continue;
			}
			return undefined;
		}
		return undefined;
	}
	return { root: head[0], steps };
}

/** Resolves a parsed parameter reference; throws an Error describing the first step that fails. */
export function resolveParameterReference(
	ref: { root: string; steps: Step[] },
	scope: Record<string, unknown>,
): unknown {
	const literals: Record<string, unknown> = { null: null, true: true, false: false };
	if (ref.steps.length === 0 && Object.hasOwn(literals, ref.root)) return literals[ref.root];
	if (!Object.hasOwn(scope, ref.root)) throw new Error(`'${ref.root}' is not defined (use inputs, self or runtime)`);
	let value: unknown = scope[ref.root];
	let path = ref.root;
	for (const step of ref.steps) {
		if (value === null || value === undefined) {
			throw new TypeError(
				`cannot read '${"field" in step ? step.field : step.index}' of ${value === null ? "null" : "undefined"} (${path})`,
			);
		}
		if ("index" in step) {
			if (!Array.isArray(value)) throw new TypeError(`${path} is not a list, so [${step.index}] cannot be taken`);
			value = value[step.index];
			path += `[${step.index}]`;
			continue;
		}
		if (Array.isArray(value) || typeof value === "string") {
			if (step.field !== "length") throw new TypeError(`${path} has no field '${step.field}'`);
			value = value.length;
		} else if (typeof value === "object") {
			const obj = value as Record<string, unknown>;
			if (!Object.hasOwn(obj, step.field)) {
				if (step.field === "length") throw new TypeError(`${path} is not a list, so it has no length`);
				throw new TypeError(`${path} has no field '${step.field}'`);
			}
			value = obj[step.field];
		} else {
			throw new TypeError(`${path} is a ${typeof value} and has no field '${step.field}'`);
		}
		path += `.${step.field}`;
	}
	return value;
}
