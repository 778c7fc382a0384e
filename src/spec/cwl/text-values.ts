import type { CwlType } from "./cwl-model.js";

/** The type of one value given as text: a scalar, a File or Directory by its path, or an enum's symbol. */
export type TextItemType = "boolean" | "int" | "float" | "string" | "File" | "Directory" | { symbols: string[] };

/**
 * How a value of `type` is given as text (an option's value, `-p name=value`): the type of one item,
 * and whether the input is an array of them; undefined for types text cannot give (records, unions
 * of several types, types defined elsewhere).
 */
export function textTypeOf(type: CwlType): { item: TextItemType; isArray: boolean } | undefined {
	const plain = withoutNull(type);
	if (typeof plain === "object" && !Array.isArray(plain) && plain.type === "array") {
		const item = itemType(withoutNull(plain.items));
		return item === undefined ? undefined : { item, isArray: true };
	}
	const item = itemType(plain);
	return item === undefined ? undefined : { item, isArray: false };
}

function withoutNull(type: CwlType): CwlType {
	if (!Array.isArray(type)) return type;
	const rest = type.filter((t) => t !== "null");
	return rest.length === 1 ? (rest[0] as CwlType) : rest;
}

function itemType(type: CwlType): TextItemType | undefined {
	if (typeof type === "string") {
		if (type === "boolean" || type === "string" || type === "File" || type === "Directory") return type;
		if (type === "int" || type === "long") return "int";
		if (type === "float" || type === "double") return "float";
		return undefined;
	}
	if (!Array.isArray(type) && type.type === "enum") return { symbols: type.symbols.map(shortSymbol) };
	return undefined;
}

/** An enum symbol without the document and type its identifier may carry (`file:///t.cwl#e/a` → `a`). */
function shortSymbol(symbol: string): string {
	return symbol.slice(Math.max(symbol.lastIndexOf("#"), symbol.lastIndexOf("/")) + 1);
}

/** How `valueOfText` says what it got wrong, and where a File's or Directory's path points. */
export interface TextValueContext {
	/** What the value is called in messages (`--max_mag`, `-p max_mag`). */
	label: string;
	/** The location of a File or Directory given by its path. */
	locate(path: string): string;
	/** The error to throw for a value the type refuses. */
	fail(message: string): Error;
}

/** The value one item's text stands for: a number, a boolean, a File or Directory object, or the text. */
export function valueOfText(item: TextItemType, text: string, context: TextValueContext): unknown {
	const { label, fail } = context;
	if (item === "boolean") {
		if (text === "true") return true;
		if (text === "false") return false;
		throw fail(`${label} takes true or false, not '${text}'`);
	}
	if (item === "int") {
		if (!/^[-+]?\d+$/.test(text)) throw fail(`${label} takes a whole number, not '${text}'`);
		return Number(text);
	}
	if (item === "float") {
		const n = Number(text);
		if (text.trim() === "" || !Number.isFinite(n)) throw fail(`${label} takes a number, not '${text}'`);
		return n;
	}
	if (item === "File" || item === "Directory") return { class: item, location: context.locate(text) };
	if (typeof item === "object" && !item.symbols.includes(text)) {
		throw fail(`${label} takes one of ${item.symbols.join(", ")}, not '${text}'`);
	}
	return text;
}

/**
 * Values given as text for a process's inputs (`name=value` pairs), each converted by its input's
 * type (`max_mag=8` gives a float input 8, `reads=a.fq` a File array of one File); a value naming no
 * input, a value that is not text, and a value for an input of a type text cannot give are kept as
 * they are.
 */
export function typedTextValues(
	inputs: ReadonlyArray<{ id: string; type: CwlType }>,
	values: Readonly<Record<string, unknown>>,
	context: Omit<TextValueContext, "label"> & { labelOf(name: string): string },
): Record<string, unknown> {
	const types = new Map(inputs.map((p) => [p.id, p.type]));
	const typed: Record<string, unknown> = {};
	for (const [name, raw] of Object.entries(values)) {
		const type = types.get(name);
		const kind = type === undefined || typeof raw !== "string" ? undefined : textTypeOf(type);
		if (!kind) {
			typed[name] = raw;
			continue;
		}
		const value = valueOfText(kind.item, raw as string, { ...context, label: context.labelOf(name) });
		typed[name] = kind.isArray ? [value] : value;
	}
	return typed;
}
