import { CwlRunError } from "./run-environment.js";

/**
 * The most jobs one scatter step may expand into. A crossproduct multiplies list lengths, so a few
 * kilobytes of input could otherwise ask for billions of jobs; the count is checked before any is built.
 */
export const MAX_SCATTER_JOBS = 100_000;

/** One scatter job: its index path (one index per scattered input for crossproducts) and its inputs. */
export interface ScatterJob {
	index: number[];
	inputs: Record<string, unknown>;
}

/**
 * Expands a step's inputs into scatter jobs: dotproduct pairs the i-th elements; the crossproducts
 * take every combination, in order (the last input varies fastest).
 */
export function scatterJobs(
	inputs: Record<string, unknown>,
	scatter: readonly string[],
	method: string | undefined,
	where: string,
): ScatterJob[] {
	const lists = scatter.map((name) => {
		const v = inputs[name];
		if (!Array.isArray(v))
			throw new CwlRunError(
				`${where}: the scattered input '${name}' must be a list, got ${v === null || v === undefined ? "nothing" : typeof v}`,
			);
		return v as unknown[];
	});
	const isDotproduct = scatter.length === 1 || method === "dotproduct" || method === undefined;
	const count = isDotproduct ? (lists[0]?.length ?? 0) : lists.reduce((acc, l) => acc * l.length, 1);
	if (count > MAX_SCATTER_JOBS)
		throw new CwlRunError(
			`${where}: the scatter would make ${count} jobs (${lists.map((l) => l.length).join(" × ")}), more than the limit of ${MAX_SCATTER_JOBS} per step`,
		);
	if (isDotproduct) {
		const n = lists[0]?.length ?? 0;
		if (lists.some((l) => l.length !== n)) {
			throw new CwlRunError(
				`${where}: dotproduct scatter needs lists of equal length, got ${lists.map((l) => l.length).join(" and ")}`,
			);
		}
		return Array.from({ length: n }, (_, i) => ({
			index: [i],
			inputs: { ...inputs, ...Object.fromEntries(scatter.map((name, k) => [name, (lists[k] as unknown[])[i]])) },
		}));
	}
	const out: ScatterJob[] = [];
	const walk = (k: number, index: number[], chosen: Record<string, unknown>) => {
		if (k === scatter.length) {
			out.push({ index, inputs: { ...inputs, ...chosen } });
			return;
		}
		(lists[k] as unknown[]).forEach((v, i) => {
			walk(k + 1, [...index, i], { ...chosen, [scatter[k] as string]: v });
		});
	};
	walk(0, [], {});
	return out;
}

/** The shape of a scatter's results: a flat list, or nested lists for nested_crossproduct. */
export function gatherScatter(
	results: ReadonlyArray<Record<string, unknown>>,
	outputs: readonly string[],
	lengths: readonly number[],
	method: string | undefined,
): Record<string, unknown> {
	const out: Record<string, unknown> = {};
	for (const name of outputs) {
		if (method !== "nested_crossproduct" || lengths.length <= 1) {
			out[name] = results.map((r) => r[name] ?? null);
			continue;
		}
		const build = (depth: number, prefix: number[]): unknown[] => {
			const n = lengths[depth] ?? 0;
			return Array.from({ length: n }, (_, i) => {
				const idx = [...prefix, i];
				if (depth === lengths.length - 1) {
					// Jobs come in row-major order, so the flat position follows from the index.
					const flat = idx.reduce((acc, x, k) => acc * (lengths[k] ?? 1) + x, 0);
					return results[flat]?.[name] ?? null;
				}
				return build(depth + 1, idx);
			});
		};
		out[name] = build(0, []);
	}
	return out;
}
