/** A piece of a YAML line, by what it is (for highlighting). */
export interface YamlToken {
	kind: "key" | "string" | "number" | "literal" | "punct" | "space";
	text: string;
}

/** One line of YAML as tokens. */
export type YamlLine = YamlToken[];

const reserved = /^(?:true|false|yes|no|on|off|null|~|y|n)$/i;
const numeric = /^[-+]?(?:\d[\d_]*(?:\.\d*)?|\.\d+)(?:e[-+]?\d+)?$|^0x[0-9a-f]+$|^[-+]?\.(?:inf|nan)$/i;
const indicator = /^[-?:,[\]{}#&*!|>'"%@`\s]/;

/** True when a string can stand in YAML without quotes and still read back as the same string. */
export function isPlainSafe(s: string): boolean {
	return (
		s !== "" &&
		!reserved.test(s) &&
		!numeric.test(s) &&
		!indicator.test(s) &&
		!/\s$/.test(s) &&
		!/[\n\r\t]/.test(s) &&
		!s.includes(": ") &&
		!s.includes(" #") &&
		!s.endsWith(":")
	);
}

function scalar(value: unknown): YamlToken {
	if (value === null || value === undefined) return { kind: "literal", text: "null" };
	if (typeof value === "boolean") return { kind: "literal", text: String(value) };
	if (typeof value === "number") return { kind: "number", text: Number.isFinite(value) ? String(value) : ".nan" };
	const s = String(value);
	return { kind: "string", text: isPlainSafe(s) ? s : JSON.stringify(s) };
}

const isBlock = (v: unknown) =>
	(Array.isArray(v) && v.length > 0) || (typeof v === "object" && v !== null && Object.keys(v).length > 0);
const pad = (n: number): YamlToken => ({ kind: "space", text: " ".repeat(n) });
const key = (k: string): YamlToken => ({ kind: "key", text: isPlainSafe(k) ? k : JSON.stringify(k) });

function valueLines(value: unknown, indent: number): YamlLine[] {
	if (Array.isArray(value)) {
		return value.flatMap((item) => {
			if (!isBlock(item)) return [[pad(indent), { kind: "punct", text: "- " }, ...inline(item, indent + 2)]];
			const inner = valueLines(item, indent + 2);
			const [first, ...rest] = inner;
			// The first line of the item goes after the dash, in place of its indentation.
			return [[pad(indent), { kind: "punct", text: "- " }, ...(first ?? []).slice(1)], ...rest];
		});
	}
	if (typeof value === "object" && value !== null) {
		return Object.entries(value).flatMap(([k, v]) => {
			const head: YamlLine = [pad(indent), key(k), { kind: "punct", text: ":" }];
			if (isBlock(v)) return [head, ...valueLines(v, Array.isArray(v) ? indent : indent + 2)];
			return [[...head, { kind: "space", text: " " }, ...inline(v, indent + 2)]];
		});
	}
	return [[pad(indent), scalar(value)]];
}

/** A scalar or empty collection on the current line; multi-line strings become literal blocks. */
function inline(value: unknown, indent: number): YamlToken[] {
	if (Array.isArray(value)) return [{ kind: "punct", text: "[]" }];
	if (typeof value === "object" && value !== null) return [{ kind: "punct", text: "{}" }];
	if (typeof value === "string" && value.includes("\n") && !/[\r\t]/.test(value) && !/^\s/.test(value)) {
		const body = value.endsWith("\n") ? value.slice(0, -1) : value;
		const marker = value.endsWith("\n") ? "|" : "|-";
		const lines = body.split("\n").map((l) => `\n${" ".repeat(indent)}${l}`);
		return [
			{ kind: "punct", text: marker },
			{ kind: "string", text: lines.join("") },
		];
	}
	return [scalar(value)];
}

/** Renders a JSON value (a specification, parameters) as YAML lines of tokens, ready to highlight. */
export function yamlLines(value: unknown): YamlLine[] {
	const lines = valueLines(value, 0).map((l) => l.filter((t) => t.text !== ""));
	// Literal blocks carry their own newlines: split them into lines of their own.
	const out: YamlLine[] = [];
	for (const line of lines) {
		let current: YamlLine = [];
		for (const t of line) {
			const parts = t.text.split("\n");
			parts.forEach((p, i) => {
				if (i > 0) {
					out.push(current);
					current = [];
				}
				if (p !== "") current.push({ kind: t.kind, text: p });
			});
		}
		out.push(current);
	}
	return out;
}

/** The YAML text of a value (what yamlLines shows). */
export function toYaml(value: unknown): string {
	return yamlLines(value)
		.map((l) => l.map((t) => t.text).join(""))
		.join("\n");
}
