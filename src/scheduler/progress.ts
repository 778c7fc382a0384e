import type { JobRow } from "../db/index.js";

/** A run's progress in REANA's shape (job ids per state), stored as JSON on the workflow. */
export interface Progress {
	total: { total: number; job_ids: string[] };
	running: { total: number; job_ids: string[] };
	finished: { total: number; job_ids: string[] };
	failed: { total: number; job_ids: string[] };
	current_step_name: string | null;
	current_command: string | null;
}

/**
 * How many job ids each state's list holds: the most recent ones. The counts are exact; the lists
 * are capped because progress is rewritten on every change of a run, and a fan-out of thousands of
 * jobs would otherwise rewrite (and every listing would return) a list of every job id each time.
 * The jobs endpoint lists them all.
 */
export const progressIdsShown = 20;

/**
 * Computes progress from the latest attempt of every job; `planned` is the engine's total when it
 * knows one. One pass from the newest job back (a scheduler computes this at every change of a
 * run, so over a fan-out of thousands of jobs the cost per pass matters); jobs out of sequence
 * order are sorted first.
 */
export function computeProgress(jobs: readonly JobRow[], planned?: number): Progress {
	let ordered = jobs;
	for (let i = 1; i < jobs.length; i++) {
		if ((jobs[i] as JobRow).seq < (jobs[i - 1] as JobRow).seq) {
			ordered = [...jobs].sort((a, b) => a.seq - b.seq);
			break;
		}
	}
	const seen = new Set<string>();
	const states = { total: newState(), running: newState(), finished: newState(), failed: newState() };
	let current: JobRow | undefined;
	let newest: JobRow | undefined;
	for (let i = ordered.length - 1; i >= 0; i--) {
		const j = ordered[i] as JobRow;
		// A retry has a later sequence number than the attempt it replaces: the first seen is the latest.
		if (seen.has(j.key)) continue;
		seen.add(j.key);
		newest ??= j;
		add(states.total, j);
		if (j.status === "running" || j.status === "queued" || j.status === "created") add(states.running, j);
		else if (j.status === "finished") add(states.finished, j);
		else if (j.status === "failed" || j.status === "stopped") add(states.failed, j);
		if (!current && (j.status === "running" || j.status === "queued")) current = j;
	}
	current ??= newest;
	const shown = (s: State) => ({ total: s.total, job_ids: s.ids.reverse() });
	return {
		total: { total: Math.max(planned ?? 0, states.total.total), job_ids: states.total.ids.reverse() },
		running: shown(states.running),
		finished: shown(states.finished),
		failed: shown(states.failed),
		current_step_name: current?.step_name ?? null,
		current_command: current?.command ?? null,
	};
}

interface State {
	total: number;
	/** The newest ids first, at most `progressIdsShown`. */
	ids: string[];
}

function newState(): State {
	return { total: 0, ids: [] };
}

function add(state: State, job: JobRow): void {
	state.total++;
	if (state.ids.length < progressIdsShown) state.ids.push(job.id);
}
