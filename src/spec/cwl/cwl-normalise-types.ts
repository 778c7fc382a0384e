import type {
	CwlBinding,
	CwlOutputBinding,
	CwlRecordField,
	CwlSecondaryFile,
	CwlType,
	CwlVersion,
} from "./cwl-model.js";
import {
	checkFields,
	isRecord,
	mapToList,
	type NormaliseContext,
	type Place,
	pathOf,
	report,
} from "./cwl-normalise-context.js";
import { fragmentOf, lastSegment, resolveUri } from "./cwl-uri.js";

/** The type names CWL defines. */
export const primitiveTypes = [
	"null",
	"boolean",
	"int",
	"long",
	"float",
	"double",
	"string",
	"File",
	"Directory",
	"Any",
	"stdin",
	"stdout",
	"stderr",
] as const;

const bindingFields = ["loadContents", "position", "prefix", "separate", "itemSeparator", "valueFrom", "shellQuote"];
const outputBindingFields = ["glob", "loadContents", "loadListing", "outputEval"];
const fieldFields = [
	"name",
	"type",
	"doc",
	"label",
	"inputBinding",
	"outputBinding",
	"secondaryFiles",
	"streamable",
	"format",
	"loadContents",
	"loadListing",
];

/** How deeply types may nest (arrays of records of arrays …); real ones stay within a handful. */
export const MAX_TYPE_DEPTH = 64;

/** The type objects being normalised (normalisation is synchronous, so one set serves every load). */
const typesInProgress = new WeakSet<object>();
let typeDepth = 0;

/** Normalises a type: shorthands (`string?`, `File[]`) expanded, named types (SchemaDefRequirement) inlined. */
export function normaliseType(
	raw: unknown,
	place: Place,
	ctx: NormaliseContext,
	version: CwlVersion,
	seen: ReadonlySet<string> = new Set(),
): CwlType {
	// A type that contains itself (a YAML alias, or a document that `$import`s itself) would recurse
	// until the stack overflows.
	if (typeof raw === "object" && raw !== null && typesInProgress.has(raw)) {
		report(
			ctx,
			place,
			`the type at '${place.path}' contains itself`,
			"recursive types are not supported: write the type out",
		);
		return "Any";
	}
	if (typeDepth >= MAX_TYPE_DEPTH) {
		report(ctx, place, `the type at '${place.path}' nests more than ${MAX_TYPE_DEPTH} deep`, "write a flatter type");
		return "Any";
	}
	const isObject = typeof raw === "object" && raw !== null;
	if (isObject) typesInProgress.add(raw);
	typeDepth++;
	try {
		return normaliseTypeOnce(raw, place, ctx, version, seen);
	} finally {
		typeDepth--;
		if (isObject) typesInProgress.delete(raw);
	}
}

function normaliseTypeOnce(
	raw: unknown,
	place: Place,
	ctx: NormaliseContext,
	version: CwlVersion,
	seen: ReadonlySet<string>,
): CwlType {
	if (typeof raw === "string") {
		const salad = raw.replace(/^https?:\/\/w3id\.org\/cwl\/(?:cwl|salad)#/, "").replace(/^(?:sld|cwl):/, "");
		if (salad.endsWith("?")) return ["null", normaliseType(salad.slice(0, -1), place, ctx, version, seen)];
		if (salad.endsWith("[]"))
			return { type: "array", items: normaliseType(salad.slice(0, -2), place, ctx, version, seen) };
		if ((primitiveTypes as readonly string[]).includes(salad)) return salad;
		return namedType(raw, place, ctx, version, seen);
	}
	if (Array.isArray(raw)) {
		const out: CwlType[] = [];
		raw.forEach((t, i) => {
			const n = normaliseType(t, { ...place, value: raw, field: i, path: pathOf(place.path, i) }, ctx, version, seen);
			if (Array.isArray(n)) out.push(...n);
			else out.push(n);
		});
		return out;
	}
	if (!isRecord(raw)) {
		report(
			ctx,
			place,
			`a type must be a name, a list or an object, not ${JSON.stringify(raw)}`,
			"write e.g. 'type: string'",
		);
		return "Any";
	}
	const name = typeof raw.name === "string" ? lastSegment(raw.name) : undefined;
	const binding =
		raw.inputBinding === undefined
			? undefined
			: normaliseBinding(
					raw.inputBinding,
					{ ...place, value: raw, field: "inputBinding", path: pathOf(place.path, "inputBinding") },
					ctx,
					version,
				);
	const withBinding = <T extends object>(t: T): T => (binding ? { ...t, inputBinding: binding } : t);
	switch (raw.type) {
		case "array":
			checkFields(ctx, raw, ["type", "items", "label", "doc", "name", "inputBinding"], place, "an array type");
			if (raw.items === undefined) report(ctx, place, "an array type needs 'items'", "add e.g. 'items: string'");
			return withBinding({
				type: "array" as const,
				items: normaliseType(
					raw.items ?? "Any",
					{ ...place, value: raw, field: "items", path: pathOf(place.path, "items") },
					ctx,
					version,
					seen,
				),
			});
		case "enum": {
			checkFields(ctx, raw, ["type", "symbols", "label", "doc", "name", "inputBinding"], place, "an enum type");
			const symbols = Array.isArray(raw.symbols) ? raw.symbols.map((s) => lastSegment(String(s))) : [];
			if (!Array.isArray(raw.symbols))
				report(ctx, place, "an enum type needs 'symbols'", "list the allowed values under 'symbols'");
			return withBinding({ type: "enum" as const, ...(name ? { name } : {}), symbols });
		}
		case "record": {
			checkFields(ctx, raw, ["type", "fields", "label", "doc", "name", "inputBinding"], place, "a record type");
			const fields: CwlRecordField[] = mapToList(raw.fields, "name", "type").map(({ item, index }) =>
				normaliseField(
					item,
					{ ...place, value: raw.fields, field: index, path: pathOf(pathOf(place.path, "fields"), index) },
					ctx,
					version,
					seen,
				),
			);
			return withBinding({ type: "record" as const, ...(name ? { name } : {}), fields });
		}
		default:
			if (raw.type !== undefined && raw.type !== "record" && typeof raw.type !== "object") {
				return normaliseType(raw.type, { ...place, value: raw, field: "type" }, ctx, version, seen);
			}
			report(ctx, place, `unknown kind of type '${String(raw.type)}'`, "use array, record or enum");
			return "Any";
	}
}

function namedType(
	raw: string,
	place: Place,
	ctx: NormaliseContext,
	version: CwlVersion,
	seen: ReadonlySet<string>,
): CwlType {
	const full = resolveUri(place.base, raw.includes("#") || raw.includes(":") ? raw : `#${raw}`);
	const entry = ctx.types.get(full) ?? ctx.types.get(fragmentOf(full) ?? "") ?? ctx.types.get(lastSegment(raw));
	if (!entry) {
		report(
			ctx,
			place,
			`unknown type '${raw}'`,
			`use a CWL type (${primitiveTypes.filter((t) => !t.startsWith("std")).join(", ")}) or define it in SchemaDefRequirement`,
		);
		return "Any";
	}
	if (seen.has(full)) {
		report(ctx, place, `the type '${raw}' refers to itself`, "recursive types are not supported");
		return "Any";
	}
	const inner = new Set(seen).add(full);
	return normaliseType(entry.raw, { value: entry.raw, path: place.path, base: entry.base }, ctx, version, inner);
}

function normaliseField(
	raw: unknown,
	place: Place,
	ctx: NormaliseContext,
	version: CwlVersion,
	seen: ReadonlySet<string>,
): CwlRecordField {
	if (!isRecord(raw) || typeof raw.name !== "string") {
		report(ctx, place, "a record field needs a 'name' and a 'type'", "write e.g. '- {name: a, type: string}'");
		return { name: "_", type: "Any", secondaryFiles: [] };
	}
	checkFields(ctx, raw, fieldFields, place, `the record field '${lastSegment(raw.name)}'`);
	const at = (field: string) => ({ ...place, value: raw, field, path: pathOf(place.path, field) });
	const field: CwlRecordField = {
		name: lastSegment(raw.name),
		type: normaliseType(raw.type ?? "Any", at("type"), ctx, version, seen),
		secondaryFiles: normaliseSecondaryFiles(raw.secondaryFiles, at("secondaryFiles"), ctx, version),
	};
	if (raw.inputBinding !== undefined)
		field.inputBinding = normaliseBinding(raw.inputBinding, at("inputBinding"), ctx, version);
	if (raw.outputBinding !== undefined)
		field.outputBinding = normaliseOutputBinding(raw.outputBinding, at("outputBinding"), ctx);
	if (raw.format !== undefined) field.format = expandFormat(raw.format, ctx.namespaces);
	if (typeof raw.loadContents === "boolean") field.loadContents = raw.loadContents;
	if (typeof raw.loadListing === "string") field.loadListing = raw.loadListing;
	return field;
}

/** Normalises an `inputBinding`. */
export function normaliseBinding(raw: unknown, place: Place, ctx: NormaliseContext, version: CwlVersion): CwlBinding {
	if (!isRecord(raw)) {
		report(ctx, place, "an inputBinding must be an object", "write e.g. 'inputBinding: {position: 1}'");
		return {};
	}
	checkFields(ctx, raw, bindingFields, place, "an inputBinding");
	const out: CwlBinding = {};
	if (raw.position !== undefined) {
		if (typeof raw.position === "number" || (typeof raw.position === "string" && version !== "v1.0"))
			out.position = raw.position;
		else
			report(
				ctx,
				{ ...place, value: raw, field: "position" },
				"'position' must be a whole number",
				"write e.g. 'position: 1'",
			);
	}
	if (raw.prefix !== undefined) out.prefix = String(raw.prefix);
	if (typeof raw.separate === "boolean") out.separate = raw.separate;
	if (raw.itemSeparator !== undefined) out.itemSeparator = String(raw.itemSeparator);
	if (typeof raw.valueFrom === "string") out.valueFrom = raw.valueFrom;
	if (typeof raw.shellQuote === "boolean") out.shellQuote = raw.shellQuote;
	if (typeof raw.loadContents === "boolean") out.loadContents = raw.loadContents;
	return out;
}

/** Normalises an `outputBinding`. */
export function normaliseOutputBinding(raw: unknown, place: Place, ctx: NormaliseContext): CwlOutputBinding {
	if (!isRecord(raw)) {
		report(ctx, place, "an outputBinding must be an object", "write e.g. 'outputBinding: {glob: out.txt}'");
		return {};
	}
	checkFields(ctx, raw, outputBindingFields, place, "an outputBinding");
	const out: CwlOutputBinding = {};
	if (typeof raw.glob === "string") out.glob = raw.glob;
	else if (Array.isArray(raw.glob)) out.glob = raw.glob.map(String);
	else if (raw.glob !== undefined && raw.glob !== null)
		report(
			ctx,
			{ ...place, value: raw, field: "glob" },
			"'glob' must be a string or a list of strings",
			"write e.g. 'glob: \"*.txt\"'",
		);
	if (typeof raw.loadContents === "boolean") out.loadContents = raw.loadContents;
	if (typeof raw.loadListing === "string") out.loadListing = raw.loadListing;
	if (typeof raw.outputEval === "string") out.outputEval = raw.outputEval;
	return out;
}

/** Normalises `secondaryFiles` to a list of `{pattern, required}` (v1.0's `?` suffix included). */
export function normaliseSecondaryFiles(
	raw: unknown,
	place: Place,
	ctx: NormaliseContext,
	version: CwlVersion,
): CwlSecondaryFile[] {
	if (raw === undefined || raw === null) return [];
	const items = Array.isArray(raw) ? raw : [raw];
	const out: CwlSecondaryFile[] = [];
	items.forEach((item, i) => {
		if (typeof item === "string") {
			if (item.endsWith("?") && !item.startsWith("$")) out.push({ pattern: item.slice(0, -1), required: false });
			else out.push({ pattern: item });
			return;
		}
		if (isRecord(item) && typeof item.pattern === "string") {
			if (version === "v1.0") {
				report(
					ctx,
					{ ...place, value: items, field: i },
					"secondaryFiles objects with 'pattern' need cwlVersion v1.1 or later",
					"write the pattern as a string in v1.0, or set cwlVersion: v1.2",
				);
			}
			checkFields(ctx, item, ["pattern", "required"], place, "a secondaryFiles entry");
			const entry: CwlSecondaryFile = { pattern: item.pattern };
			if (typeof item.required === "boolean" || typeof item.required === "string") entry.required = item.required;
			out.push(entry);
			return;
		}
		report(
			ctx,
			{ ...place, value: items, field: i },
			"a secondaryFiles entry must be a pattern",
			"write e.g. 'secondaryFiles: [.bai]'",
		);
	});
	return out;
}

/** Expands namespace prefixes in a `format` (`edam:format_1929` → `http://edamontology.org/format_1929`). */
export function expandFormat(raw: unknown, namespaces: Record<string, string>): string | string[] {
	const one = (f: string): string => {
		if (f.includes("$(") || f.includes("${")) return f;
		const m = /^([A-Za-z_][\w.-]*):(?!\/\/)(.*)$/.exec(f);
		if (m && namespaces[m[1] as string]) return `${namespaces[m[1] as string]}${m[2]}`;
		return f;
	};
	return Array.isArray(raw) ? raw.map((f) => one(String(f))) : one(String(raw));
}
