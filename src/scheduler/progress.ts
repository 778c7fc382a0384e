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

/** Computes progress from the latest attempt of every job; `planned` is the engine's total when it knows one. */
export function computeProgress(jobs: readonly JobRow[], planned?: number): Progress {
	const latest = new Map<string, JobRow>();
	for (const j of jobs) {
		const prev = latest.get(j.key);
		if (!prev || j.attempt > prev.attempt) latest.set(j.key, j);
	}
	const rows = [...latest.values()].sort((a, b) => a.seq - b.seq);
	const ids = (pred: (j: JobRow) => boolean) => rows.filter(pred).map((j) => j.id);
	const running = ids((j) => j.status === "running" || j.status === "queued" || j.status === "created");
	const finished = ids((j) => j.status === "finished");
	const failed = ids((j) => j.status === "failed" || j.status === "stopped");
	const current = rows.filter((j) => j.status === "running" || j.status === "queued").at(-1) ?? rows.at(-1);
	return {
		total: { total: Math.max(planned ?? 0, rows.length), job_ids: rows.map((j) => j.id) },
		running: { total: running.length, job_ids: running },
		finished: { total: finished.length, job_ids: finished },
		failed: { total: failed.length, job_ids: failed },
		current_step_name: current?.step_name ?? null,
		current_command: current?.command ?? null,
	};
}
