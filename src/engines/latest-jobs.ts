import type { JobView } from "./workflow-engine.js";

/** The latest attempt of each job key of a run. */
export function latestByKey(jobs: readonly JobView[]): Map<string, JobView> {
	const out = new Map<string, JobView>();
	for (const j of jobs) {
		const prev = out.get(j.key);
		if (!prev || j.attempt > prev.attempt) out.set(j.key, j);
	}
	return out;
}
