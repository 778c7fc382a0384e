import { CwlRunError } from "./run-environment.js";

/** How a step input or workflow output combines its sources. */
export interface SourceLink {
	source: readonly string[];
	linkMerge?: string | undefined;
	pickValue?: string | undefined;
}

/**
 * The value a link delivers: one source as is; several merged (merge_nested makes a list of the
 * values, merge_flattened concatenates lists); then pickValue drops nulls as asked.
 */
export function mergeSources(link: SourceLink, values: ReadonlyMap<string, unknown>, where: string): unknown {
	if (link.source.length === 0) return undefined;
	const vals = link.source.map((s) => values.get(s) ?? null);
	const method = link.linkMerge ?? (link.source.length > 1 ? "merge_nested" : undefined);
	let v: unknown;
	if (method === undefined) v = vals[0];
	else if (method === "merge_nested") v = vals;
	else if (method === "merge_flattened") v = vals.flatMap((x) => (Array.isArray(x) ? x : [x]));
	else throw new CwlRunError(`${where}: unknown linkMerge '${method}' (use merge_nested or merge_flattened)`);
	return link.pickValue === undefined ? v : pick(link.pickValue, v, where);
}

function pick(method: string, value: unknown, where: string): unknown {
	if (!Array.isArray(value))
		throw new CwlRunError(`${where}: pickValue needs several sources or a list, got ${typeof value}`);
	const present = value.filter((x) => x !== null && x !== undefined);
	switch (method) {
		case "first_non_null":
			if (present.length === 0) throw new CwlRunError(`${where}: pickValue first_non_null found only null values`);
			return present[0];
		case "the_only_non_null":
			if (present.length !== 1) {
				throw new CwlRunError(
					`${where}: pickValue the_only_non_null needs exactly one value that is not null, found ${present.length}`,
				);
			}
			return present[0];
		case "all_non_null":
			return present;
		default:
			throw new CwlRunError(
				`${where}: unknown pickValue '${method}' (use first_non_null, the_only_non_null or all_non_null)`,
			);
	}
}
