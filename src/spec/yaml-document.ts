import {
	type Alias,
	Composer,
	type CST,
	type Document,
	type DocumentOptions,
	isAlias,
	isMap,
	isNode,
	isPair,
	isSeq,
	type LineCounter,
	type Node,
	type ParseOptions,
	Parser,
	type SchemaOptions,
	YAMLParseError,
} from "yaml";
import { MAX_NESTING_DEPTH, nestingProblem } from "./nesting-limit.js";
import type { Problem } from "./problem.js";

/** Options of `parseYamlDocument`: the `yaml` package's, with the line counter required. */
export type YamlDocumentOptions = ParseOptions & DocumentOptions & SchemaOptions & { lineCounter: LineCounter };

/**
 * Parses one YAML document as `parseDocument` of the `yaml` package does, but refuses one that nests
 * deeper than MAX_NESTING_DEPTH (counting what its aliases stand for) or whose alias contains itself,
 * before anything walks it recursively: composing it, converting it to plain values, validating it.
 * A problem comes back with the file and line of the first collection too deep.
 */
export function parseYamlDocument(
	text: string,
	file: string,
	options: YamlDocumentOptions,
): { doc: Document.Parsed; problem?: undefined } | { doc?: undefined; problem: Problem } {
	const at = (offset: number) => {
		const pos = options.lineCounter.linePos(offset);
		return { line: pos.line, column: pos.col };
	};
	// The parser keeps its own stack; the composer recurses, once per level.
	const tokens = Array.from(new Parser(options.lineCounter.addNewLine).parse(text));
	const deep = tooDeepToken(tokens);
	if (deep.offset !== undefined) return { problem: nestingProblem(file, at(deep.offset)) };
	let doc: Document.Parsed | undefined;
	for (const next of new Composer(options).compose(tokens, true, text.length)) {
		if (!doc) doc = next;
		else {
			doc.errors.push(
				new YAMLParseError(
					[next.range[0], next.range[1]],
					"MULTIPLE_DOCS",
					"Source contains multiple documents; please use YAML.parseAllDocuments()",
				),
			);
			break;
		}
	}
	if (!doc) throw new Error("the YAML composer made no document"); // compose(…, true) always makes one
	if (deep.hasAlias) {
		const expanded = tooDeepNode(doc);
		if (expanded) return { problem: nestingProblem(file, at(expanded.node.range?.[0] ?? 0), expanded.cycle) };
	}
	return { doc };
}

/** The first collection of the parsed tokens deeper than the limit, and whether any alias was seen. */
function tooDeepToken(tokens: CST.Token[]): { offset?: number; hasAlias: boolean } {
	let hasAlias = false;
	// Pushed last to first, so that they are taken in document order.
	const stack: Array<{ token: CST.Token | null | undefined; depth: number }> = tokens
		.map((token) => ({ token, depth: 0 }))
		.reverse();
	for (let item = stack.pop(); item !== undefined; item = stack.pop()) {
		const { token, depth } = item;
		if (!token) continue;
		if (token.type === "alias") hasAlias = true;
		else if (token.type === "document") stack.push({ token: token.value, depth });
		else if (token.type === "block-map" || token.type === "block-seq" || token.type === "flow-collection") {
			if (depth + 1 > MAX_NESTING_DEPTH) return { offset: token.offset, hasAlias };
			for (const entry of [...token.items].reverse()) {
				stack.push({ token: entry.value, depth: depth + 1 });
				if ("key" in entry) stack.push({ token: entry.key, depth: depth + 1 });
			}
		}
	}
	return { hasAlias };
}

const inProgress = -1;

/**
 * The first collection that holds more than the limit of levels once its aliases are expanded (or
 * an alias inside the value it names, `cycle`), found without recursion: each node's height is
 * computed once, after its children's.
 */
function tooDeepNode(doc: Document.Parsed): { node: Node; cycle?: string } | undefined {
	// An alias names the last anchor before it, in document order (as `Alias.resolve` finds it).
	const anchors = new Map<string, Node>();
	const targets = new Map<Alias, Node>();
	const ordered: unknown[] = [doc.contents];
	while (ordered.length > 0) {
		const node = ordered.pop();
		if (isAlias(node)) {
			const target = anchors.get(node.source);
			if (target) targets.set(node, target);
		} else if (isNode(node)) {
			if (node.anchor) anchors.set(node.anchor, node);
			const children = childrenOf(node);
			for (let i = children.length - 1; i >= 0; i--) ordered.push(children[i]);
		}
	}
	const heights = new Map<Node, number>();
	const children = (node: Node): Node[] => {
		if (!isAlias(node)) return childrenOf(node);
		const target = targets.get(node);
		return target ? [target] : [];
	};
	const stack: Node[] = isNode(doc.contents) ? [doc.contents] : [];
	while (stack.length > 0) {
		const node = stack[stack.length - 1] as Node;
		const known = heights.get(node);
		if (known === undefined) {
			heights.set(node, inProgress);
			for (const child of children(node)) {
				if (heights.get(child) !== inProgress) {
					if (!heights.has(child)) stack.push(child);
				} else if (isAlias(node)) return { node, cycle: node.source };
			}
			continue;
		}
		stack.pop();
		if (known !== inProgress) continue;
		let height = 0;
		for (const child of children(node)) height = Math.max(height, heights.get(child) ?? 0);
		if (isMap(node) || isSeq(node)) height++;
		if (height > MAX_NESTING_DEPTH) return { node };
		heights.set(node, height);
	}
	return undefined;
}

/** The keys and values of a mapping, the items of a sequence; nothing for a scalar or an alias. */
function childrenOf(node: Node): Node[] {
	if (!isMap(node) && !isSeq(node)) return [];
	const out: Node[] = [];
	for (const item of node.items as unknown[]) {
		if (isPair(item)) {
			if (isNode(item.key)) out.push(item.key);
			if (isNode(item.value)) out.push(item.value);
		} else if (isNode(item)) out.push(item);
	}
	return out;
}
