import { AppError } from "../common/index.js";

/** One thing wrong (or suspicious) in a specification, pinned to a place a user can find. */
export interface Problem {
	severity: "error" | "warning";
	/** The file as the user named it (e.g. `reana.yaml`). */
	file: string;
	/** 1-based line and column; absent when the document came without positions (JSON over HTTP). */
	line?: number;
	column?: number;
	/** Where in the document, as a dotted path (`workflow.specification.steps[0].commands`). */
	path: string;
	message: string;
	/** What to do about it. */
	hint: string;
}

/** A specification that cannot be used; carries every problem found, errors first. */
export class SpecError extends AppError {
	readonly problems: Problem[];

	constructor(problems: Problem[]) {
		const errors = problems.filter((p) => p.severity === "error");
		const first = errors[0] ?? problems[0];
		const more = errors.length > 1 ? ` (and ${errors.length - 1} more problem${errors.length > 2 ? "s" : ""})` : "";
		super("validation_failed", first ? `${formatProblem(first)}${more}` : "invalid specification", {
			details: { problems },
		});
		this.name = "SpecError";
		this.problems = problems;
	}
}

/** `file:line:column: message (hint: …)`, the one-line form used by the CLI and in error messages. */
export function formatProblem(p: Problem): string {
	const where = p.line === undefined ? `${p.file} at ${p.path || "top level"}` : `${p.file}:${p.line}:${p.column ?? 1}`;
	return `${where}: ${p.message}${p.hint ? ` (hint: ${p.hint})` : ""}`;
}

/** Renders a path of keys and indices as `a.b[0].c`. */
export function formatPath(path: ReadonlyArray<string | number>): string {
	let out = "";
	for (const part of path) {
		if (typeof part === "number") out += `[${part}]`;
		else out += out ? `.${part}` : part;
	}
	return out;
}
