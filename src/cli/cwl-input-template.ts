import { stringify } from "yaml";
import type { CwlProcess, CwlType } from "../spec/index.js";

/**
 * An input object to fill in for a process (what cwltool's `--make-template` prints): each input with
 * its default, or a placeholder of its type; optional ones are marked in a comment.
 */
export function inputTemplate(process: CwlProcess): string {
	if (process.inputs.length === 0) return "{}\n";
	const lines: string[] = [];
	for (const p of process.inputs) {
		const optional = isOptional(p.type);
		const note = [typeName(p.type), optional ? "optional" : "", p.hasDefault ? "has a default" : ""]
			.filter(Boolean)
			.join(", ");
		const value = p.hasDefault ? p.default : placeholder(p.type);
		const text = stringify({ [p.id]: value }, { lineWidth: 0 }).trimEnd();
		lines.push(`# ${p.id}: ${note}`, text);
	}
	return `${lines.join("\n")}\n`;
}

function isOptional(type: CwlType): boolean {
	return Array.isArray(type) && type.includes("null");
}

function placeholder(type: CwlType): unknown {
	if (Array.isArray(type)) {
		const rest = type.filter((t) => t !== "null");
		return rest.length === 0 ? null : placeholder(rest[0] as CwlType);
	}
	if (typeof type === "string") {
		switch (type) {
			case "File":
				return { class: "File", path: "a/file/path" };
			case "Directory":
				return { class: "Directory", path: "a/directory/path" };
			case "string":
				return "a_string";
			case "int":
			case "long":
				return 0;
			case "float":
			case "double":
				return 0.1;
			case "boolean":
				return false;
			case "null":
				return null;
			default:
				return null; // Any, or a type defined in SchemaDefRequirement
		}
	}
	if (type.type === "array") return [placeholder(type.items)];
	if (type.type === "enum") return shortName(type.symbols[0] ?? "");
	return Object.fromEntries(type.fields.map((f) => [shortName(f.name), placeholder(f.type)]));
}

function typeName(type: CwlType): string {
	if (Array.isArray(type)) {
		const rest = type.filter((t) => t !== "null");
		return rest.length === 0 ? "null" : rest.map(typeName).join(" | ");
	}
	if (typeof type === "string") return shortName(type);
	if (type.type === "array") return `${typeName(type.items)}[]`;
	if (type.type === "enum") return `one of ${type.symbols.map(shortName).join(", ")}`;
	return "record";
}

/** The last part of an identifier (`file:///t.cwl#e/a` → `a`). */
function shortName(id: string): string {
	return id.slice(Math.max(id.lastIndexOf("#"), id.lastIndexOf("/")) + 1);
}
