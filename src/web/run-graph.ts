import type { ReanaSpecification, SerialSpecification } from "../contract/index.js";
import { combinedStatus } from "./run-states.js";
import type { JobItem } from "./use-run-live.js";

/** A step of a run with the latest attempt of each of its jobs. */
export interface StepNode {
	name: string;
	status: string;
	jobs: JobItem[];
	/** Jobs the specification plans for this step (serial: its commands), when known. */
	planned: number | undefined;
}

/** The steps of a run and which step waits for which. */
export interface RunGraph {
	steps: StepNode[];
	edges: [from: string, to: string][];
	/** False when the server does not say how steps depend on each other (the steps are then shown unlinked). */
	hasDependencies: boolean;
}

const serialKey = /^s\d+\.c\d+$/;

/** The latest attempt of every job key, in the order the jobs were created. */
export function latestAttempts(jobs: readonly JobItem[]): JobItem[] {
	const latest = new Map<string, JobItem>();
	for (const j of jobs) {
		const prev = latest.get(j.key);
		if (!prev || j.attempt > prev.attempt) latest.set(j.key, j);
	}
	return [...latest.values()];
}

function serialStepsOf(spec: Record<string, unknown> | undefined): { name: string; commands: number }[] | undefined {
	const reana = spec as ReanaSpecification | undefined;
	if (reana?.workflow?.type !== "serial") return undefined;
	const steps = (reana.workflow.specification as SerialSpecification | undefined)?.steps ?? [];
	// REANA names an unnamed serial step after its position.
	return steps.map((s, i) => ({ name: s.name ?? `step${i}`, commands: s.commands.length }));
}

/**
 * Builds the DAG of a run from its specification (when the server gives it) and its jobs. Serial workflows
 * are a chain of steps; for other engines the server does not report dependencies yet.
 */
export function runGraph(spec: Record<string, unknown> | undefined, jobs: readonly JobItem[]): RunGraph {
	const latest = latestAttempts(jobs);
	const planned = serialStepsOf(spec);
	const names: string[] = planned ? planned.map((s) => s.name) : [];
	for (const j of latest) if (!names.includes(j.step_name)) names.push(j.step_name);
	const steps = names.map((name) => {
		const own = latest.filter((j) => j.step_name === name);
		const count = planned?.find((s) => s.name === name)?.commands;
		const statuses = own.map((j) => j.status);
		const status =
			count !== undefined && own.length < count && statuses.length > 0 && !statuses.includes("failed")
				? combinedStatus([...statuses, "created"])
				: combinedStatus(statuses);
		return { name, status, jobs: own, planned: count };
	});
	const isSerial = planned !== undefined || (latest.length > 0 && latest.every((j) => serialKey.test(j.key)));
	const edges: [string, string][] = [];
	if (isSerial) for (let i = 1; i < names.length; i++) edges.push([names[i - 1] as string, names[i] as string]);
	return { steps, edges, hasDependencies: isSerial };
}
