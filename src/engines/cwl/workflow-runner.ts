import type { CwlStep, CwlWorkflow } from "../../spec/index.js";
import { evaluate } from "./expression-evaluator.js";
import { isFile, mapFileValues } from "./file-values.js";
import { loadContents, resolveValue } from "./input-files.js";
import {
	maxNewJobs,
	type Outcome,
	runProcess,
	type ScatterState,
	type Tick,
	type WorkflowRunner,
} from "./process-runner.js";
import { CwlRunError, javascriptOf, type Scopes, whereOf } from "./run-environment.js";
import { gatherScatter, type ScatterJob, scatterJobs } from "./scatter.js";
import { mergeSources } from "./source-merge.js";
import { outputMismatch } from "./value-types.js";

const orders = new WeakMap<CwlWorkflow, CwlStep[]>();

/** Steps in an order where every step comes after the steps it takes inputs from. */
export function stepOrder(wf: CwlWorkflow): CwlStep[] {
	const cached = orders.get(wf);
	if (cached) return cached;
	const byId = new Map(wf.steps.map((s) => [s.id, s]));
	const out: CwlStep[] = [];
	const state = new Map<string, number>();
	const visit = (s: CwlStep) => {
		if (state.get(s.id) === 2) return;
		if (state.get(s.id) === 1) throw new CwlRunError(`the steps of ${wf.id} form a cycle through '${s.id}'`);
		state.set(s.id, 1);
		for (const d of dependencies(s)) {
			const dep = byId.get(d);
			if (dep) visit(dep);
		}
		state.set(s.id, 2);
		out.push(s);
	};
	for (const s of wf.steps) visit(s);
	orders.set(wf, out);
	return out;
}

function dependencies(step: CwlStep): string[] {
	const deps = new Set<string>();
	for (const i of step.in) {
		for (const src of i.source) {
			const k = src.lastIndexOf("/");
			if (k > 0) deps.add(src.slice(0, k));
		}
	}
	return [...deps];
}

/** Runs a workflow's steps as far as their inputs allow; done when every step is done. */
export const runWorkflow: WorkflowRunner = async (wf, inputs, key, chain, tick) => {
	const values = new Map<string, unknown>(Object.entries(inputs));
	const done = new Set<string>();
	let isPending = false;
	for (const step of stepOrder(wf)) {
		if (dependencies(step).some((d) => !done.has(d))) {
			isPending = true;
			continue;
		}
		const outcome = await runStep(wf, step, values, key, chain, tick);
		if (outcome.state === "failed") return outcome;
		if (outcome.state === "pending") {
			isPending = true;
			continue;
		}
		done.add(step.id);
		for (const o of step.out) values.set(`${step.id}/${o}`, outcome.outputs[o] ?? null);
	}
	if (isPending) return { state: "pending" };
	const outputs: Record<string, unknown> = {};
	for (const o of wf.outputs) {
		const where = whereOf(wf, tick.env.workspace, o.loc, `output '${o.id}'`);
		const v =
			mergeSources({ source: o.outputSource, linkMerge: o.linkMerge, pickValue: o.pickValue }, values, where) ?? null;
		const mismatch = outputMismatch(o.type, v, o.id);
		if (mismatch) throw new CwlRunError(`${where}: ${mismatch}`);
		outputs[o.id] = v;
	}
	return { state: "done", outputs };
};

async function runStep(
	wf: CwlWorkflow,
	step: CwlStep,
	values: ReadonlyMap<string, unknown>,
	key: string,
	chain: Scopes,
	tick: Tick,
): Promise<Outcome> {
	const stepKey = key ? `${key}/${step.id}` : step.id;
	const cached = tick.memory.finished.get(stepKey);
	if (cached) return cached;
	const stepChain = [...chain, step];
	const gathered: Record<string, unknown> = {};
	for (const inp of step.in) {
		const where = whereOf(wf, tick.env.workspace, inp.loc ?? step.loc, `step '${step.id}' input '${inp.id}'`);
		let v = mergeSources(inp, values, where);
		if ((v === undefined || v === null) && inp.hasDefault) {
			v = await mapFileValues(inp.default, async (f) =>
				f.location !== undefined || f.path !== undefined ? resolveValue(f, wf.baseUri, tick.env, where) : f,
			);
		}
		if (inp.loadContents) {
			v = await mapFileValues(v, async (f) =>
				isFile(f) ? { ...f, contents: await loadContents(f, tick.env, where) } : f,
			);
		}
		gathered[inp.id] = v ?? null;
	}
	const where = whereOf(wf, tick.env.workspace, step.loc, `step '${step.id}'`);
	let outcome: Outcome;
	if (step.scatter.length === 0) {
		outcome = await runInstance(step, gathered, stepKey, stepChain, tick, where);
	} else {
		const sc = scatterStateOf(tick, stepKey, () => scatterJobs(gathered, step.scatter, step.scatterMethod, where));
		// Tool items past the frontier were never started: once this decision has proposed enough new
		// jobs they all wait, and are not looked at.
		const isTool = step.run.class === "CommandLineTool";
		let isPending = false;
		for (let i = sc.done; i < sc.jobs.length; i++) {
			if (isTool && i > sc.frontier && tick.submit.length >= maxNewJobs) {
				isPending = true;
				break;
			}
			const itemKey = sc.keys[i] as string;
			const finished = tick.memory.finished.get(`${itemKey}#process`) ?? tick.memory.finished.get(`${itemKey}#skipped`);
			const o =
				finished ?? (await runInstance(step, (sc.jobs[i] as ScatterJob).inputs, itemKey, stepChain, tick, where));
			if (i > sc.frontier && (tick.memory.invocations.has(itemKey) || tick.jobs.has(itemKey))) sc.frontier = i;
			if (o.state === "failed") return o;
			if (o.state === "pending") isPending = true;
			else if (!isPending && i === sc.done) {
				// Done outcomes are final: the leading ones are kept and not looked at again.
				sc.results.push(o.outputs);
				sc.done = i + 1;
			}
		}
		if (isPending) return { state: "pending" };
		const results = sc.results;
		const lengths = step.scatter.map((n) => (gathered[n] as unknown[]).length);
		outcome = { state: "done", outputs: gatherScatter(results, step.out, lengths, step.scatterMethod) };
	}
	if (outcome.state === "done") tick.memory.finished.set(stepKey, outcome);
	return outcome;
}

/** The state of a scatter step, expanded on first use; the frontier starts at the last item already recorded as a job. */
function scatterStateOf(tick: Tick, stepKey: string, expand: () => ScatterJob[]): ScatterState {
	let sc = tick.memory.scatters.get(stepKey);
	if (!sc) {
		const jobs = expand();
		const keys = jobs.map((j) => `${stepKey}.${j.index.join(".")}`);
		let frontier = -1;
		for (const [i, k] of keys.entries()) if (tick.jobs.has(k) || tick.memory.invocations.has(k)) frontier = i;
		sc = { jobs, keys, done: 0, results: [], frontier };
		tick.memory.scatters.set(stepKey, sc);
	}
	return sc;
}

async function runInstance(
	step: CwlStep,
	given: Record<string, unknown>,
	key: string,
	chain: Scopes,
	tick: Tick,
	where: string,
): Promise<Outcome> {
	const cached = tick.memory.finished.get(`${key}#process`) ?? tick.memory.finished.get(`${key}#skipped`);
	if (cached) return cached;
	if (tick.memory.invocations.has(key)) return runProcess(step.run, given, key, step.id, chain, tick, false);
	const javascript = javascriptOf(chain);
	const scope = { runtime: {}, ...(javascript ? { javascript } : {}), timeoutMs: tick.env.timeoutMs };
	let inputs = given;
	if (step.in.some((i) => i.valueFrom !== undefined)) {
		inputs = { ...given };
		for (const inp of step.in) {
			if (inp.valueFrom === undefined) continue;
			inputs[inp.id] = evaluate(inp.valueFrom, {
				...scope,
				inputs: given,
				self: given[inp.id] ?? null,
				where: `${where} input '${inp.id}' valueFrom`,
			});
		}
	}
	if (step.when !== undefined) {
		const condition = evaluate(step.when, { ...scope, inputs, self: null, where: `${where} when` });
		if (typeof condition !== "boolean") {
			throw new CwlRunError(`${where} when: the condition must be true or false, got ${JSON.stringify(condition)}`);
		}
		if (!condition) {
			const skipped: Outcome = { state: "done", outputs: Object.fromEntries(step.out.map((o) => [o, null])) };
			tick.memory.finished.set(`${key}#skipped`, skipped);
			return skipped;
		}
	}
	const declared = new Set(step.run.inputs.map((i) => i.id));
	const processInputs: Record<string, unknown> = {};
	for (const [k, v] of Object.entries(inputs)) if (declared.has(k)) processInputs[k] = v;
	const outcome = await runProcess(step.run, processInputs, key, step.id, chain, tick, false);
	if (outcome.state !== "done") return outcome;
	const outputs: Record<string, unknown> = {};
	for (const o of step.out) outputs[o] = outcome.outputs[o] ?? null;
	return { state: "done", outputs };
}
