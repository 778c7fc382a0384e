import { endedRunStatuses } from "../contract/index.js";
import type { ApiClient } from "./api-client.js";
import type { Output } from "./output.js";
import { ProgressLine } from "./progress-line.js";

const terminal = new Set<string>(endedRunStatuses);

/** Options for following a run. */
export interface FollowOptions {
	/** Print job output lines as they are written. */
	showJobLogs: boolean;
	/** Print the run's events (submitted, finished, …). */
	showEvents: boolean;
	signal?: AbortSignal;
}

/**
 * Follows a run until it ends: events and job output are printed as they happen, with a progress
 * line on a terminal. Uses long polling on the event log, so an idle run costs one request per wait.
 */
export async function followRun(
	api: ApiClient,
	out: Output,
	workflow: string,
	options: FollowOptions,
): Promise<string> {
	const params = { workflow_id_or_name: workflow };
	const progress = new ProgressLine();
	const offsets = new Map<string, { stdout: number; stderr: number }>();
	const drained = new Set<string>();
	const watched = new Set<string>();
	let after = 0;
	let status = "created";
	for (;;) {
		options.signal?.throwIfAborted();
		const events = await api.call("get_workflow_events", {
			params,
			query: { after, wait: terminal.has(status) ? 0 : 2 },
		});
		status = events.status;
		for (const e of events.items) {
			after = Math.max(after, e.id);
			if (!options.showEvents) continue;
			progress.clear();
			const colour = e.level === "error" ? "red" : e.level === "warning" ? "yellow" : "grey";
			out.note(out.colour(colour, `${e.at.slice(11, 19)} ${e.message}`));
		}
		// Only jobs something happened to (their events) are looked at, until their output is drained:
		// a fan-out of thousands of jobs costs requests for the jobs that move, not for all of them.
		for (const e of events.items) if (e.job_id && !drained.has(e.job_id)) watched.add(e.job_id);
		const jobs = await watchedJobs(api, params, [...watched]);
		if (options.showJobLogs) {
			for (const job of jobs) {
				if (job.status === "created" || job.status === "queued") continue;
				const pos = offsets.get(job.id) ?? { stdout: 0, stderr: 0 };
				let isEmpty = true;
				for (const stream of ["stdout", "stderr"] as const) {
					// Ask only for a log that has grown since it was last read (servers without sizes: always).
					const size = stream === "stdout" ? job.stdout_bytes : job.stderr_bytes;
					if (size !== undefined && size <= pos[stream]) continue;
					for (;;) {
						const chunk = await api.call("get_job_log", {
							params: { workflow_id_or_name: workflow, job_id: job.id },
							query: { stream, offset: pos[stream] },
						});
						if (chunk.data.length === 0) break;
						isEmpty = false;
						// Print whole lines only; a partial last line waits for the rest (or the end of the job).
						const isDone = terminal.has(job.status) || ["finished", "failed", "stopped"].includes(chunk.status);
						const cut = isDone ? chunk.data.length : chunk.data.lastIndexOf("\n") + 1;
						if (cut === 0) break;
						progress.clear();
						for (const line of chunk.data.slice(0, cut).replace(/\n$/, "").split("\n")) {
							out.line(`${out.colour("grey", `${job.step_name} │`)} ${line}`);
						}
						pos[stream] += Buffer.byteLength(chunk.data.slice(0, cut));
						if (chunk.next_offset - chunk.offset < 256 * 1024) break;
					}
				}
				offsets.set(job.id, pos);
				if (isEmpty && ["finished", "failed", "stopped"].includes(job.status)) {
					drained.add(job.id);
					watched.delete(job.id);
					offsets.delete(job.id);
				}
			}
		} else {
			for (const job of jobs) if (["finished", "failed", "stopped"].includes(job.status)) watched.delete(job.id);
		}
		const finished = events.progress.finished.total;
		const total = Math.max(events.progress.total.total, 1);
		const current = jobs.filter((j) => j.status === "running").at(-1);
		progress.update(workflow, finished, total, current ? `running ${current.step_name}` : status);
		if (terminal.has(status) && watched.size === 0) break;
	}
	progress.clear();
	return status;
}

/** The current state of some jobs of a run, asked for in chunks (ids travel in the query). */
async function watchedJobs(
	api: ApiClient,
	params: { workflow_id_or_name: string },
	ids: string[],
): Promise<WatchedJob[]> {
	const out: WatchedJob[] = [];
	for (let i = 0; i < ids.length; i += 100) {
		const res = await api.call("get_workflow_jobs", {
			params,
			query: { ids: ids.slice(i, i + 100).join(","), log_sizes: true },
		});
		out.push(...res.items);
	}
	return out;
}

interface WatchedJob {
	id: string;
	status: string;
	step_name: string;
	stdout_bytes?: number;
	stderr_bytes?: number;
}
