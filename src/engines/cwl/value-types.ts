import type { CwlRecordType, CwlType } from "../../spec/index.js";
import { isDirectory, isFile } from "./file-values.js";

/** True when a value is of a CWL type (shallowly for Files: their class). */
export function matchesType(type: CwlType, value: unknown): boolean {
	if (Array.isArray(type)) return type.some((t) => matchesType(t, value));
	if (typeof type === "string") {
		switch (type) {
			case "null":
				return value === null || value === undefined;
			case "Any":
				return value !== null && value !== undefined;
			case "boolean":
				return typeof value === "boolean";
			case "int":
			case "long":
				return typeof value === "number" && Number.isInteger(value);
			case "float":
			case "double":
				return typeof value === "number";
			case "string":
				return typeof value === "string";
			case "File":
			case "stdin":
			case "stdout":
			case "stderr":
				return isFile(value);
			case "Directory":
				return isDirectory(value);
			default:
				return false;
		}
	}
	switch (type.type) {
		case "array":
			return Array.isArray(value) && value.every((v) => matchesType(type.items, v));
		case "enum":
			return typeof value === "string" && type.symbols.includes(value);
		case "record":
			return isRecordValue(value) && recordMatches(type, value);
	}
}

function recordMatches(type: CwlRecordType, value: Record<string, unknown>): boolean {
	return type.fields.every((f) => matchesType(f.type, value[f.name] ?? null));
}

function isRecordValue(value: unknown): value is Record<string, unknown> {
	return typeof value === "object" && value !== null && !Array.isArray(value) && !isFile(value) && !isDirectory(value);
}

/** The branch of a (union) type a value belongs to, or undefined when none fits. */
export function branchOf(type: CwlType, value: unknown): CwlType | undefined {
	if (!Array.isArray(type)) return matchesType(type, value) ? type : undefined;
	for (const t of type) {
		const b = branchOf(t, value);
		if (b !== undefined) return b;
	}
	return undefined;
}

function acceptsAny(type: CwlType): boolean {
	return Array.isArray(type) ? type.includes("Any") : type === "Any";
}

/** The output form of typeMismatch: an output of type Any may be null (runners accept it). */
export function outputMismatch(type: CwlType, value: unknown, name: string): string | undefined {
	if ((value === null || value === undefined) && acceptsAny(type)) return undefined;
	return typeMismatch(type, value, name);
}

/** True when a type accepts null (optional). */
export function isOptional(type: CwlType): boolean {
	if (Array.isArray(type)) return type.some(isOptional);
	return type === "null";
}

/** A type as users write it, for messages (`File[]?`, `record`, `enum(a|b)`). */
export function typeName(type: CwlType): string {
	if (Array.isArray(type)) {
		const rest = type.filter((t) => t !== "null");
		const inner = rest.length === 1 ? typeName(rest[0] as CwlType) : rest.map(typeName).join(" | ");
		return rest.length < type.length ? `${inner}?` : inner;
	}
	if (typeof type === "string") return type;
	if (type.type === "array") return `${typeName(type.items)}[]`;
	if (type.type === "enum") return `enum(${type.symbols.slice(0, 5).join("|")}${type.symbols.length > 5 ? "|…" : ""})`;
	return type.name ? `record ${type.name}` : "record";
}

/** Describes a value briefly for messages. */
export function describeValue(value: unknown): string {
	if (value === null || value === undefined) return "nothing (null)";
	if (isFile(value)) return "a File";
	if (isDirectory(value)) return "a Directory";
	if (Array.isArray(value)) return `a list of ${value.length}`;
	if (typeof value === "object") return "a record";
	const text = JSON.stringify(value);
	return `${typeof value} ${text.length > 40 ? `${text.slice(0, 37)}...` : text}`;
}

/**
 * Explains why a value does not fit a type (undefined when it fits); names the innermost field or item
 * that is wrong, e.g. `reads[1]: expected File, got string "x"`.
 */
export function typeMismatch(type: CwlType, value: unknown, path: string): string | undefined {
	if (matchesType(type, value)) return undefined;
	const single = Array.isArray(type) ? type.filter((t) => t !== "null") : [type];
	const only = single.length === 1 ? single[0] : undefined;
	if (only !== undefined && typeof only === "object" && !Array.isArray(only) && value !== null && value !== undefined) {
		if (only.type === "array" && Array.isArray(value)) {
			for (let i = 0; i < value.length; i++) {
				const m = typeMismatch(only.items, value[i], `${path}[${i}]`);
				if (m) return m;
			}
		}
		if (only.type === "record" && isRecordValue(value)) {
			for (const f of only.fields) {
				const m = typeMismatch(f.type, value[f.name] ?? null, `${path}.${f.name}`);
				if (m) return m;
			}
		}
	}
	return `${path}: expected ${typeName(type)}, got ${describeValue(value)}`;
}
