import type { Problem } from "../problem.js";
import type { CwlProcess, CwlWorkflow } from "./cwl-model.js";
import type { SourceRef } from "./cwl-yaml.js";

/** Checks what a schema cannot: that every source exists, scatter names step inputs, and steps form no cycle. */
export function checkProcessSemantics(process: CwlProcess, problems: Problem[], seen = new Set<string>()): void {
	if (seen.has(process.id)) return;
	seen.add(process.id);
	if (process.class !== "Workflow") return;
	checkWorkflow(process, problems);
	for (const step of process.steps) checkProcessSemantics(step.run, problems, seen);
}

function checkWorkflow(wf: CwlWorkflow, problems: Problem[]): void {
	const add = (loc: SourceRef | undefined, path: string, message: string, hint: string) =>
		problems.push({
			severity: "error",
			file: loc?.file ?? wf.baseUri,
			...(loc ? { line: loc.line, column: loc.column } : {}),
			path,
			message,
			hint,
		});
	const inputs = new Set(wf.inputs.map((i) => i.id));
	const outputsOf = new Map(wf.steps.map((s) => [s.id, new Set(s.out)]));
	const known = () =>
		[...inputs, ...wf.steps.flatMap((s) => s.out.map((o) => `${s.id}/${o}`))].slice(0, 12).join(", ") || "none";
	const exists = (src: string): boolean => {
		if (inputs.has(src)) return true;
		const i = src.lastIndexOf("/");
		return i > 0 && (outputsOf.get(src.slice(0, i))?.has(src.slice(i + 1)) ?? false);
	};
	const ids = new Set<string>();
	for (const step of wf.steps) {
		if (ids.has(step.id))
			add(step.loc, `steps.${step.id}`, `two steps are named '${step.id}'`, "give each step a unique name");
		ids.add(step.id);
		const ins = new Set(step.in.map((i) => i.id));
		for (const input of step.in) {
			for (const src of input.source) {
				if (!exists(src)) {
					add(
						input.loc ?? step.loc,
						`steps.${step.id}.in.${input.id}`,
						`step '${step.id}' takes '${input.id}' from '${src}', which is neither a workflow input nor a step output`,
						`known sources: ${known()}`,
					);
				}
			}
		}
		for (const s of step.scatter) {
			if (!ins.has(s))
				add(
					step.loc,
					`steps.${step.id}.scatter`,
					`step '${step.id}' scatters over '${s}', which is not one of its inputs`,
					`its inputs: ${[...ins].join(", ") || "none"}`,
				);
		}
		if (step.scatter.length > 1 && step.scatterMethod === undefined) {
			add(
				step.loc,
				`steps.${step.id}.scatterMethod`,
				`step '${step.id}' scatters over several inputs but names no scatterMethod`,
				"add 'scatterMethod: dotproduct' (or flat_crossproduct, nested_crossproduct)",
			);
		}
		if (
			step.scatterMethod !== undefined &&
			!["dotproduct", "flat_crossproduct", "nested_crossproduct"].includes(step.scatterMethod)
		) {
			add(
				step.loc,
				`steps.${step.id}.scatterMethod`,
				`unknown scatterMethod '${step.scatterMethod}'`,
				"use dotproduct, flat_crossproduct or nested_crossproduct",
			);
		}
		const runOutputs = new Set(step.run.outputs.map((o) => o.id));
		for (const o of step.out) {
			if (!runOutputs.has(o) && step.run.class !== "Operation") {
				add(
					step.loc,
					`steps.${step.id}.out`,
					`step '${step.id}' lists the output '${o}', which its process does not have`,
					`the process's outputs: ${[...runOutputs].join(", ") || "none"}`,
				);
			}
		}
	}
	for (const out of wf.outputs) {
		if (out.outputSource.length === 0) {
			add(
				out.loc,
				`outputs.${out.id}`,
				`the workflow output '${out.id}' has no outputSource`,
				"say where it comes from, e.g. 'outputSource: step/out'",
			);
		}
		for (const src of out.outputSource) {
			if (!exists(src))
				add(
					out.loc,
					`outputs.${out.id}.outputSource`,
					`the workflow output '${out.id}' comes from '${src}', which does not exist`,
					`known sources: ${known()}`,
				);
		}
	}
	const cycle = findCycle(wf);
	if (cycle) {
		const first = wf.steps.find((s) => s.id === cycle[0]);
		add(
			first?.loc,
			`steps.${cycle[0]}`,
			`the steps form a cycle: ${cycle.join(" → ")}`,
			"a workflow is a directed acyclic graph; break the loop",
		);
	}
}

/** The first cycle among the steps (as step names, the first repeated at the end), if any. */
export function findCycle(wf: CwlWorkflow): string[] | undefined {
	const deps = new Map<string, string[]>();
	const stepIds = new Set(wf.steps.map((s) => s.id));
	for (const step of wf.steps) {
		const from = new Set<string>();
		for (const input of step.in) {
			for (const src of input.source) {
				const i = src.lastIndexOf("/");
				if (i > 0 && stepIds.has(src.slice(0, i))) from.add(src.slice(0, i));
			}
		}
		deps.set(step.id, [...from]);
	}
	const state = new Map<string, "visiting" | "done">();
	const stack: string[] = [];
	const visit = (id: string): string[] | undefined => {
		if (state.get(id) === "done") return undefined;
		if (state.get(id) === "visiting") return [...stack.slice(stack.indexOf(id)), id];
		state.set(id, "visiting");
		stack.push(id);
		for (const d of deps.get(id) ?? []) {
			const c = visit(d);
			if (c) return c;
		}
		stack.pop();
		state.set(id, "done");
		return undefined;
	};
	for (const s of wf.steps) {
		const c = visit(s.id);
		if (c) return c.reverse();
	}
	return undefined;
}
