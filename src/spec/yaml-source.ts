import { isMap, isScalar, LineCounter, type Node } from "yaml";
import type { Problem } from "./problem.js";
import { parseYamlDocument } from "./yaml-document.js";

/** A parsed YAML (or JSON) document that can say where any value came from. */
export interface YamlSource {
	file: string;
	value: unknown;
	/** The 1-based position of the value at `path`, or of the nearest ancestor that exists. */
	locate(path: ReadonlyArray<string | number>, options?: { key?: boolean }): { line: number; column: number };
}

/** Parses YAML text; syntax errors come back as problems with file, line and column. */
export function parseYamlSource(text: string, file: string): { source?: YamlSource; problems: Problem[] } {
	const lineCounter = new LineCounter();
	const parsed = parseYamlDocument(text, file, { lineCounter, prettyErrors: false, uniqueKeys: true, strict: true });
	if (!parsed.doc) return { problems: [parsed.problem] };
	const doc = parsed.doc;
	const problems: Problem[] = [];
	for (const err of doc.errors) {
		const pos = lineCounter.linePos(err.pos[0]);
		problems.push({
			severity: "error",
			file,
			line: pos.line,
			column: pos.col,
			path: "",
			message: `invalid YAML: ${firstLine(err.message)}`,
			hint: yamlHint(err.code),
		});
	}
	if (problems.length > 0) return { problems };
	const locate: YamlSource["locate"] = (path, options) => {
		let node: unknown = doc.contents;
		let found: Node | null = (doc.contents as Node | null) ?? null;
		for (let i = 0; i < path.length; i++) {
			const part = path[i];
			if (!(node && typeof node === "object" && "items" in node)) break;
			if (isMap(node)) {
				const pair = node.items.find((it) => isScalar(it.key) && String(it.key.value) === String(part));
				if (!pair) break;
				const isLast = i === path.length - 1;
				if (isLast && options?.key) {
					found = pair.key as Node;
					break;
				}
				node = pair.value;
				if (pair.value) found = pair.value as Node;
				else {
					found = pair.key as Node;
					break;
				}
			} else {
				const items = (node as { items: unknown[] }).items;
				const next = typeof part === "number" ? items[part] : undefined;
				if (!next) break;
				node = next;
				found = next as Node;
			}
		}
		const offset = found?.range?.[0] ?? 0;
		const pos = lineCounter.linePos(offset);
		return { line: pos.line, column: pos.col };
	};
	return { source: { file, value: doc.toJS({ maxAliasCount: 1000 }), locate }, problems };
}

function firstLine(message: string): string {
	return message.split("\n")[0] ?? message;
}

function yamlHint(code: string): string {
	switch (code) {
		case "DUPLICATE_KEY":
			return "each key may appear only once in a mapping; remove or rename the repeated one";
		case "TAB_AS_INDENT":
			return "indent with spaces, not tabs";
		case "BAD_INDENT":
		case "MISSING_CHAR":
		case "UNEXPECTED_TOKEN":
			return "check the indentation and that every list item starts with '- '";
		case "BLOCK_AS_IMPLICIT_KEY":
		case "MULTILINE_IMPLICIT_KEY":
			return "a key must fit on one line and be followed by ':'; quote values that contain ': '";
		default:
			return "check the YAML syntax around this position; quote strings that contain ':' or '#'";
	}
}
