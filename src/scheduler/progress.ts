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

/** Computes progress from the latest attempt of every job; `planned` is the engine's total when it knows one. */
export function computeProgress(jobs: readonly JobRow[], planned?: number): Progress {
	const latest = new Map<string, JobRow>();
	for (const j of jobs) {
		const prev = latest.get(j.key);
		if (!prev || j.attempt > prev.attempt) latest.set(j.key, j);
	}
	const rows = [...latest.values()].sort((a, b) => a.seq - b.seq);
	const count = (pred: (j: JobRow) => boolean) => {
		const matching = rows.filter(pred);
		return { total: matching.length, job_ids: matching.slice(-progressIdsShown).map((j) => j.id) };
	};
	const current = rows.filter((j) => j.status === "running" || j.status === "queued").at(-1) ?? rows.at(-1);
	return {
		total: { total: Math.max(planned ?? 0, rows.length), job_ids: rows.slice(-progressIdsShown).map((j) => j.id) },
		running: count((j) => j.status === "running" || j.status === "queued" || j.status === "created"),
		finished: count((j) => j.status === "finished"),
		failed: count((j) => j.status === "failed" || j.status === "stopped"),
		current_step_name: current?.step_name ?? null,
		current_command: current?.command ?? null,
	};
}
