import { formatPath, type Problem } from "./problem.js";

/**
 * How deep lists and mappings may nest in a specification, a CWL document or a parameter file. Parsing,
 * validation and the engines walk documents recursively, and about a thousand levels (2 KiB of `[]`)
 * exhaust the stack; no real document comes near this.
 */
export const MAX_NESTING_DEPTH = 200;

/** The problem of a document nested deeper than MAX_NESTING_DEPTH, or of a value that contains itself. */
export function nestingProblem(
	file: string,
	where: { line: number; column: number } | { path: ReadonlyArray<string | number> },
	alias?: string,
): Problem {
	const position =
		"line" in where ? { line: where.line, column: where.column, path: "" } : { path: shortPath(where.path) };
	if (alias !== undefined)
		return {
			severity: "error",
			file,
			...position,
			message: `the alias *${alias} refers to a value that contains it`,
			hint: "a document is a tree: write the value out instead of referring to itself",
		};
	return {
		severity: "error",
		file,
		...position,
		message: `lists and mappings are nested more than ${MAX_NESTING_DEPTH} levels deep here`,
		hint: `flatten the data: a document may nest at most ${MAX_NESTING_DEPTH} levels`,
	};
}

// Keeps a message on one line of reasonable length: the path down to a value 200 levels deep is long.
function shortPath(path: ReadonlyArray<string | number>): string {
	return path.length > 4 ? `${formatPath(path.slice(0, 4))}…` : formatPath(path);
}

interface Visit {
	value: object;
	depth: number;
	key: string | number | undefined;
	parent: Visit | undefined;
}

/**
 * The problem with a plain value (a JSON body, parsed JSON text) that nests deeper than
 * MAX_NESTING_DEPTH, found without recursion; undefined when there is none. A value reached again
 * is walked again only when reached deeper than before (so a cycle counts as too deep).
 */
export function valueNestingProblem(value: unknown, file: string): Problem | undefined {
	if (typeof value !== "object" || value === null) return undefined;
	const deepest = new Map<object, number>();
	const stack: Visit[] = [{ value, depth: 1, key: undefined, parent: undefined }];
	for (let visit = stack.pop(); visit !== undefined; visit = stack.pop()) {
		if (visit.depth > MAX_NESTING_DEPTH) return nestingProblem(file, { path: pathOf(visit) });
		if ((deepest.get(visit.value) ?? 0) >= visit.depth) continue;
		deepest.set(visit.value, visit.depth);
		const entries: Array<[string | number, unknown]> = Array.isArray(visit.value)
			? visit.value.map((x, i) => [i, x])
			: Object.entries(visit.value);
		for (const [key, child] of entries)
			if (typeof child === "object" && child !== null)
				stack.push({ value: child, depth: visit.depth + 1, key, parent: visit });
	}
	return undefined;
}

function pathOf(visit: Visit): Array<string | number> {
	const path: Array<string | number> = [];
	for (let v: Visit | undefined = visit; v?.key !== undefined; v = v.parent) path.unshift(v.key);
	return path;
}
