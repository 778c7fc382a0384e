import { Ajv, type ErrorObject, type ValidateFunction } from "ajv";
import { formatPath, type Problem } from "./problem.js";

/** Locates a path in the document being checked; absent for documents without positions. */
export type Locator = (
	path: ReadonlyArray<string | number>,
	options?: { key?: boolean },
) => { line: number; column: number } | undefined;

// The schemas are ours and checked against the meta-schema by a test (src/contract/schemas-valid.test.ts),
// not at every start of the CLI.
const ajv = new Ajv({ allErrors: true, strict: false, validateSchema: false });
const compiled = new WeakMap<object, ValidateFunction>();

/** Validates a value against a JSON schema and turns every violation into a problem with a hint. */
export function checkSchema(
	schema: object,
	value: unknown,
	file: string,
	locate: Locator,
	basePath: ReadonlyArray<string | number> = [],
): Problem[] {
	let validate = compiled.get(schema);
	if (!validate) {
		validate = ajv.compile(schema);
		compiled.set(schema, validate);
	}
	if (validate(value)) return [];
	const errors = pruneErrors(validate.errors ?? []);
	return errors.map((e) => toProblem(e, schema, file, locate, basePath));
}

// anyOf/oneOf produce one error per branch plus a summary; keep the most specific ones.
function pruneErrors(errors: ErrorObject[]): ErrorObject[] {
	const seen = new Set<string>();
	const out: ErrorObject[] = [];
	for (const e of errors) {
		if (e.keyword === "anyOf" || e.keyword === "oneOf" || e.keyword === "if") continue;
		const key = `${e.instancePath}|${e.keyword}|${JSON.stringify(e.params)}`;
		if (seen.has(key)) continue;
		seen.add(key);
		out.push(e);
	}
	// A union of literals fails once per literal: collapse those into one "one of" error.
	const merged: ErrorObject[] = [];
	const consts = new Map<string, ErrorObject & { allowed: unknown[] }>();
	for (const e of out) {
		if (e.keyword === "const") {
			const prev = consts.get(e.instancePath);
			if (prev) prev.allowed.push(e.params.allowedValue);
			else {
				const entry = { ...e, keyword: "enum", allowed: [e.params.allowedValue] };
				consts.set(e.instancePath, entry);
				merged.push(entry);
			}
			continue;
		}
		merged.push(e);
	}
	for (const entry of consts.values()) entry.params = { allowedValues: entry.allowed };
	return merged;
}

function toProblem(
	e: ErrorObject,
	schema: object,
	file: string,
	locate: Locator,
	basePath: ReadonlyArray<string | number>,
): Problem {
	const instance = pointerToPath(e.instancePath);
	const path = [...basePath, ...instance];
	const here = formatPath(path) || "the top level";
	let message: string;
	let hint: string;
	let at: ReadonlyArray<string | number> = path;
	let isKey = false;
	switch (e.keyword) {
		case "required": {
			const missing = String(e.params.missingProperty);
			message = `'${missing}' is required in ${here}`;
			hint = `add '${missing}:' under ${here}`;
			break;
		}
		case "additionalProperties": {
			const extra = String(e.params.additionalProperty);
			const allowed = allowedKeys(schema, instance);
			const guess = closest(extra, allowed);
			at = [...path, extra];
			isKey = true;
			message = `unknown key '${extra}' in ${here}`;
			hint = guess
				? `did you mean '${guess}'?`
				: `remove it; allowed keys here: ${allowed.length > 0 ? allowed.join(", ") : "none"}`;
			break;
		}
		case "enum": {
			const allowed = (e.params.allowedValues as unknown[]).map((v) => String(v));
			message = `${here} must be one of ${allowed.join(", ")}`;
			hint = `use one of: ${allowed.join(", ")}`;
			break;
		}
		case "type": {
			message = `${here} must be ${article(String(e.params.type))}`;
			hint = typeHint(String(e.params.type));
			break;
		}
		case "minItems":
			message = `${here} must have at least ${e.params.limit} item${e.params.limit === 1 ? "" : "s"}`;
			hint = "add the missing entries as a list ('- item')";
			break;
		case "minProperties":
			message = `${here} must not be empty`;
			hint = "add at least one entry or remove the key";
			break;
		default:
			message = `${here} ${e.message ?? "is invalid"}`;
			hint = "see docs/reana-yaml.md for the accepted form";
	}
	const pos = locate(at, { key: isKey }) ?? locate(path);
	const problem: Problem = { severity: "error", file, path: formatPath(path), message, hint };
	if (pos) {
		problem.line = pos.line;
		problem.column = pos.column;
	}
	return problem;
}

function pointerToPath(pointer: string): Array<string | number> {
	if (!pointer) return [];
	return pointer
		.slice(1)
		.split("/")
		.map((s) => s.replace(/~1/g, "/").replace(/~0/g, "~"))
		.map((s) => (/^\d+$/.test(s) ? Number(s) : s));
}

/** The property names a schema allows at an instance path (for did-you-mean hints). */
function allowedKeys(schema: object, path: ReadonlyArray<string | number>): string[] {
	let node: unknown = schema;
	for (const part of path) {
		if (!node || typeof node !== "object") return [];
		const s = node as { properties?: Record<string, unknown>; items?: unknown; additionalProperties?: unknown };
		if (typeof part === "number") node = s.items;
		else
			node = s.properties?.[part] ?? (typeof s.additionalProperties === "object" ? s.additionalProperties : undefined);
	}
	const props = (node as { properties?: Record<string, unknown> } | undefined)?.properties;
	return props ? Object.keys(props) : [];
}

/** The allowed name closest to a misspelt one, if it is close enough to be a typo. */
export function closest(word: string, candidates: readonly string[]): string | undefined {
	let best: string | undefined;
	let bestDistance = Number.POSITIVE_INFINITY;
	for (const c of candidates) {
		const d = editDistance(word.toLowerCase(), c.toLowerCase());
		if (d < bestDistance) {
			bestDistance = d;
			best = c;
		}
	}
	return best !== undefined && bestDistance <= Math.max(1, Math.floor(word.length / 3)) ? best : undefined;
}

function editDistance(a: string, b: string): number {
	const row = Array.from({ length: b.length + 1 }, (_, i) => i);
	for (let i = 1; i <= a.length; i++) {
		let prev = row[0] ?? 0;
		row[0] = i;
		for (let j = 1; j <= b.length; j++) {
			const tmp = row[j] ?? 0;
			row[j] = Math.min((row[j] ?? 0) + 1, (row[j - 1] ?? 0) + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
			prev = tmp;
		}
	}
	return row[b.length] ?? 0;
}

function article(type: string): string {
	const words: Record<string, string> = {
		array: "a list",
		object: "a mapping (key: value)",
		string: "a string",
		integer: "a whole number",
		number: "a number",
		boolean: "true or false",
	};
	return words[type] ?? `of type ${type}`;
}

function typeHint(type: string): string {
	switch (type) {
		case "array":
			return "write it as a list, one '- item' per line";
		case "object":
			return "write it as 'key: value' pairs indented under it";
		case "string":
			return "quote the value if it looks like a number, a boolean or contains ':'";
		case "integer":
			return "write a whole number without quotes";
		default:
			return `write ${article(type)}`;
	}
}
