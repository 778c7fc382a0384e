import type { Problem } from "../problem.js";
import { closest } from "../schema-check.js";
import type { CwlProcess, CwlVersion } from "./cwl-model.js";
import { lastSegment, withoutFragment } from "./cwl-uri.js";
import { carrySource, placeLike, sourceOf } from "./cwl-yaml.js";

/** What normalisation shares across the documents of one load. */
export interface NormaliseContext {
	display(uri: string): string;
	problems: Problem[];
	namespaces: Record<string, string>;
	schemas: string[];
	/** Named types of every SchemaDefRequirement, by full URI and by short name. */
	types: Map<string, { raw: unknown; base: string }>;
	/** Processes already normalised, by URI (a tool run by several steps is read once). */
	processes: Map<string, CwlProcess>;
	/** Processes being normalised (to refuse a process that runs itself). */
	loading: Set<string>;
	resolveRun(
		ref: string,
		base: string,
		version: CwlVersion,
		from: { value: unknown; field: string },
	): Promise<{ raw: unknown; base: string; version: CwlVersion }>;
}

/** Where a problem is: the object it is in, the field, and the dotted path shown to users. */
export interface Place {
	value: unknown;
	field?: string | number;
	/** Point at the field's key rather than its value (for fields that should not be there). */
	isKey?: boolean;
	path: string;
	base: string;
}

/** Records a problem at a place; the file and line come from where the value was parsed. */
export function report(
	ctx: NormaliseContext,
	place: Place,
	message: string,
	hint: string,
	severity: Problem["severity"] = "error",
): void {
	const where = sourceOf(place.value, place.field, place.isKey);
	ctx.problems.push({
		severity,
		file: where?.file ?? ctx.display(withoutFragment(place.base)),
		...(where ? { line: where.line, column: where.column } : {}),
		path: place.path,
		message,
		hint,
	});
}

/** Reports fields a CWL object may not have (extension fields with a namespace prefix are allowed). */
export function checkFields(
	ctx: NormaliseContext,
	obj: Record<string, unknown>,
	allowed: readonly string[],
	place: Place,
	what: string,
): void {
	for (const key of Object.keys(obj)) {
		if (allowed.includes(key) || key.includes(":") || key.startsWith("$")) continue;
		const guess = closest(key, allowed);
		report(
			ctx,
			{ ...place, value: obj, field: key, isKey: true, path: place.path ? `${place.path}.${key}` : key },
			`unknown field '${key}' in ${what}`,
			guess ? `did you mean '${guess}'?` : `allowed fields: ${allowed.join(", ")}`,
		);
	}
}

/** Joins a path and a key for messages. */
export function pathOf(path: string, key: string | number): string {
	if (typeof key === "number") return `${path}[${key}]`;
	return path ? `${path}.${key}` : key;
}

/** True for a plain object. */
export function isRecord(value: unknown): value is Record<string, unknown> {
	return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** A short display form of an identifier. */
export function displayId(id: string): string {
	return lastSegment(id);
}

/**
 * Turns CWL's map forms into lists: `{a: X, b: Y}` becomes `[{key: a, ...X}, …]` where a non-object
 * X becomes `{[valueKey]: X}` (e.g. `inputs: {a: string}` → `[{id: a, type: string}]`).
 */
export function mapToList(
	value: unknown,
	keyField: string,
	valueField: string | undefined,
): Array<{ item: unknown; index: number | string }> {
	if (value === undefined || value === null) return [];
	if (Array.isArray(value)) return value.map((item, index) => ({ item, index }));
	if (!isRecord(value)) return [{ item: value, index: 0 }];
	return Object.entries(value).map(([k, v]) => {
		if (isRecord(v)) return { item: carrySource(v, { [keyField]: k, ...v }), index: k };
		const item = valueField ? { [keyField]: k, [valueField]: v } : { [keyField]: k };
		return { item: placeLike(item, value, k), index: k };
	});
}
