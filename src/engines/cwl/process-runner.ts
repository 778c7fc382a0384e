import { isAppError } from "../../common/index.js";
import type { CwlCommandLineTool, CwlExpressionTool, CwlProcess, CwlWorkflow } from "../../spec/index.js";
import type { JobRequest, JobView } from "../workflow-engine.js";
import { evaluate } from "./expression-evaluator.js";
import { isFileOrDirectory, mapFileValues } from "./file-values.js";
import { resolveValue } from "./input-files.js";
import { completeInputs } from "./input-values.js";
import { finishValue } from "./output-collector.js";
import { CwlRunError, javascriptOf, type RunEnvironment, type Scopes, whereOf } from "./run-environment.js";
import type { ScatterJob } from "./scatter.js";
import { type Invocation, prepareInvocation } from "./tool-invocation.js";
import { outputMismatch } from "./value-types.js";

/** The most new jobs one decision proposes (the rest follow in later decisions). */
export const maxNewJobs = 256;

/** Where one process (or step) stands. */
export type Outcome =
	| { state: "done"; outputs: Record<string, unknown> }
	| { state: "pending" }
	| { state: "failed"; reason: string };

/** What the engine keeps between decisions for one run (recomputable from the spec and the jobs). */
export interface RunMemory {
	root: CwlProcess;
	/** The completed inputs of the root process. */
	inputs: Record<string, unknown>;
	/** URI relative locations of the input object resolve against. */
	inputBase: string;
	invocations: Map<string, Invocation>;
	/** Outcomes that are final (done), by key. */
	finished: Map<string, Outcome>;
	/** Scatter expansions and how far each has got, by step key. */
	scatters: Map<string, ScatterState>;
}

/**
 * A scatter step between decisions: its items (expanded once), their keys, the leading items known
 * done with their outputs, and the last item ever prepared or recorded as a job. Each decision then
 * looks only at the items between those two marks (plus new ones), not at every item: a decision per
 * ended job over every item made a large scatter quadratic.
 */
export interface ScatterState {
	jobs: ScatterJob[];
	keys: string[];
	done: number;
	results: Array<Record<string, unknown>>;
	frontier: number;
}

/** Runs a workflow's steps (injected to keep the modules free of import cycles). */
export type WorkflowRunner = (
	wf: CwlWorkflow,
	inputs: Record<string, unknown>,
	key: string,
	chain: Scopes,
	tick: Tick,
) => Promise<Outcome>;

/** One decision in progress: the recorded jobs, and what to submit. */
export interface Tick {
	env: RunEnvironment;
	memory: RunMemory;
	jobs: ReadonlyMap<string, JobView>;
	submit: JobRequest[];
	runWorkflow: WorkflowRunner;
}

/** What a tool job stores when it is collected. */
export type CollectedJob =
	| { exitCode: number; outputs: Record<string, unknown> }
	| { exitCode?: number; error: string };

/** Runs (or continues) a process with its inputs; `key` names the invocation within the run. */
export async function runProcess(
	process: CwlProcess,
	given: Record<string, unknown>,
	key: string,
	stepName: string,
	scopes: Scopes,
	tick: Tick,
	isTopLevel: boolean,
): Promise<Outcome> {
	const cached = tick.memory.finished.get(`${key}#process`);
	if (cached) return cached;
	const chain = [...scopes, process];
	try {
		let outcome: Outcome;
		// A tool already prepared needs no second look at its inputs (this runs on every decision);
		// past a few hundred new jobs a decision stops preparing more: the scheduler takes few at a time.
		const isPrepared = process.class === "CommandLineTool" && tick.memory.invocations.has(key || "main");
		if (
			process.class === "CommandLineTool" &&
			!isPrepared &&
			!tick.jobs.has(key || "main") &&
			tick.submit.length >= maxNewJobs
		) {
			return { state: "pending" };
		}
		const inputs = isTopLevel || isPrepared ? given : await completeInputs(given, inputOptions(process, chain, tick));
		switch (process.class) {
			case "CommandLineTool":
				outcome = await runTool(process, inputs, key || "main", stepName, chain, tick);
				break;
			case "ExpressionTool":
				outcome = await runExpressionTool(process, inputs, chain, tick);
				break;
			case "Operation":
				outcome = {
					state: "failed",
					reason: `${whereOf(process, tick.env.workspace, process.loc, "class")}: unsupported: an Operation is abstract and cannot run`,
				};
				break;
			case "Workflow":
				outcome = await tick.runWorkflow(process, inputs, key, chain, tick);
				break;
		}
		if (outcome.state === "done") tick.memory.finished.set(`${key}#process`, outcome);
		return outcome;
	} catch (error) {
		if (isAppError(error)) return { state: "failed", reason: error.message };
		throw error;
	}
}

/** The options that complete a process's inputs inside a run. */
export function inputOptions(process: CwlProcess, chain: Scopes, tick: Tick) {
	const js = javascriptOf(chain);
	return {
		env: tick.env,
		process,
		javascript: js,
		base: process.baseUri,
		isTopLevel: false,
		loadListing: loadListingOf(chain, process),
	};
}

/** The default listing depth: LoadListingRequirement, else deep for v1.0 documents, else none. */
export function loadListingOf(chain: Scopes, process: CwlProcess): string {
	for (let i = chain.length - 1; i >= 0; i--) {
		const r = [...(chain[i]?.requirements ?? []), ...(chain[i]?.hints ?? [])].find(
			(x) => x.class === "LoadListingRequirement",
		);
		if (r && typeof r.loadListing === "string") return r.loadListing;
	}
	return process.cwlVersion === "v1.0" ? "deep_listing" : "no_listing";
}

async function runTool(
	tool: CwlCommandLineTool,
	inputs: Record<string, unknown>,
	key: string,
	stepName: string,
	chain: Scopes,
	tick: Tick,
): Promise<Outcome> {
	let inv = tick.memory.invocations.get(key);
	if (!inv) {
		inv = await prepareInvocation(tool, inputs, chain, key, stepName, tick.env);
		tick.memory.invocations.set(key, inv);
	}
	const job = tick.jobs.get(key);
	if (!job) {
		tick.submit.push(inv.request);
		return { state: "pending" };
	}
	switch (job.status) {
		case "finished": {
			const collected = job.outputs as CollectedJob | null;
			if (collected === null || collected === undefined) return { state: "pending" };
			if ("error" in collected) return { state: "failed", reason: `step ${stepName} failed: ${collected.error}` };
			return { state: "done", outputs: collected.outputs };
		}
		case "failed":
			return {
				state: "failed",
				reason: `step ${stepName} failed${job.exitCode === null ? "" : ` with exit code ${job.exitCode}`}${job.message ? `: ${job.message}` : ""}`,
			};
		case "stopped":
			return { state: "failed", reason: `step ${stepName} was stopped` };
		default:
			return { state: "pending" };
	}
}

async function runExpressionTool(
	tool: CwlExpressionTool,
	inputs: Record<string, unknown>,
	chain: Scopes,
	tick: Tick,
): Promise<Outcome> {
	const javascript = javascriptOf(chain);
	const where = whereOf(tool, tick.env.workspace, tool.loc, "expression");
	const result = evaluate(tool.expression, {
		inputs,
		self: null,
		runtime: {},
		...(javascript ? { javascript } : {}),
		where,
		timeoutMs: tick.env.timeoutMs,
	});
	if (typeof result !== "object" || result === null || Array.isArray(result)) {
		throw new CwlRunError(
			`${where}: an ExpressionTool's expression must return an object of outputs, got ${JSON.stringify(result)?.slice(0, 80)}`,
		);
	}
	const outputs: Record<string, unknown> = {};
	for (const o of tool.outputs) {
		const raw = (result as Record<string, unknown>)[o.id] ?? null;
		const v = await mapFileValues(raw, async (f) => {
			const resolved =
				isFileOrDirectory(f) && (f.location !== undefined || f.path !== undefined)
					? await resolveValue(f, tool.baseUri, tick.env, where)
					: f;
			return finishValue(resolved, tick.env, where);
		});
		const mismatch = outputMismatch(o.type, v, o.id);
		if (mismatch) throw new CwlRunError(`${whereOf(tool, tick.env.workspace, o.loc, `output '${o.id}'`)}: ${mismatch}`);
		outputs[o.id] = v;
	}
	return { state: "done", outputs };
}
