import { posix } from "node:path";
import { AppError } from "../../common/index.js";
import { type CwlProcess, type CwlRequirement, findRequirement, type SourceRef, uriToPath } from "../../spec/index.js";
import type { WorkspaceFiles } from "../../storage/index.js";
import { defaultExpressionTimeoutMs } from "./expression-evaluator.js";

/** What every part of the engine works with during one decision. */
export interface RunEnvironment {
	files: WorkspaceFiles;
	/** The workspace (absolute). */
	workspace: string;
	/**
	 * The run's id, which names the folder of its jobs (`cwl-work/<run id>/`): a restart shares its
	 * parent's workspace, and must not find the parent's outputs in its jobs' folders. Absent when
	 * nothing runs (validation).
	 */
	runId?: string;
	timeoutMs: number;
}

/** Creates the environment of one run (`runId` absent: one that only loads and validates). */
export function runEnvironment(
	files: WorkspaceFiles,
	timeoutMs = defaultExpressionTimeoutMs,
	runId?: string,
): RunEnvironment {
	return { files, workspace: files.root, timeoutMs, ...(runId === undefined ? {} : { runId }) };
}

/** A chain of requirement holders, outermost first (workflow, step, process). */
export type Scopes = ReadonlyArray<{ requirements: CwlRequirement[]; hints: CwlRequirement[] }>;

/** The expressionLib when InlineJavascriptRequirement is in force; undefined when only parameter references are allowed. */
export function javascriptOf(scopes: Scopes): readonly string[] | undefined {
	const req = findRequirement(scopes, "InlineJavascriptRequirement");
	if (!req) return undefined;
	if (Array.isArray(req.expressionLib)) return req.expressionLib as string[];
	// The same list each time for one requirement: the expression sandbox is kept per list (per run).
	let empty = emptyLibraries.get(req);
	if (!empty) {
		empty = [];
		emptyLibraries.set(req, empty);
	}
	return empty;
}

const emptyLibraries = new WeakMap<object, readonly string[]>();

/** A workflow failure caused by the workflow itself (bad input, failed expression, missing output). */
export class CwlRunError extends AppError {
	constructor(message: string) {
		super("validation_failed", message);
		this.name = "CwlRunError";
	}
}

/** An error that means the feature is not supported (the CLI exits 33 for these). */
export class UnsupportedFeatureError extends AppError {
	constructor(message: string) {
		super("not_implemented", `unsupported: ${message}`);
		this.name = "UnsupportedFeatureError";
	}
}

/** `file:line: field` for messages, relative to the workspace when the document is in it. */
export function whereOf(process: CwlProcess, workspace: string, loc: SourceRef | undefined, field: string): string {
	// Given the process's own position, the field's is closer to what the message is about.
	const at = (loc === process.loc ? fieldLoc(process, field) : undefined) ?? loc;
	const file = at?.file ?? displayPath(process.baseUri, workspace);
	return at ? `${file}:${at.line}: ${field}` : `${file}: ${field}`;
}

/**
 * Where a field named like `stdout`, `arguments[0].position`, `inputs.x`, `outputs.y.outputBinding.glob`
 * or `EnvVarRequirement.HOME` was written, when the loader recorded it.
 */
function fieldLoc(process: CwlProcess, field: string): SourceRef | undefined {
	const [head, next] = field.split(/[.[]/, 2);
	if ((head === "inputs" || head === "outputs") && next !== undefined) {
		const param = process[head].find((p) => p.id === next);
		if (param?.loc) return param.loc;
	}
	return head === undefined ? undefined : process.fieldLocs?.[head];
}

/** A document URI shown relative to the workspace. */
export function displayPath(uri: string, workspace: string): string {
	try {
		const p = uriToPath(uri);
		return p.startsWith(`${workspace}/`) ? posix.relative(workspace, p) : p;
	} catch {
		return uri;
	}
}
