import { useCallback, useEffect, useState } from "react";
import { apiCall, type CallOutput, isAbort } from "./api-client.js";
import { isTerminal } from "./run-states.js";

/** A run's status as the API sends it. */
export type RunStatusBody = CallOutput<"get_workflow_status">;
/** One job of a run. */
export type JobItem = CallOutput<"get_workflow_jobs">["items"][number];
/** One entry of a run's event log. */
export type RunEvent = CallOutput<"get_workflow_events">["items"][number];

/** What the run page shows, kept current by long-polling the run's event log. */
export interface RunLive {
	status: RunStatusBody | undefined;
	jobs: JobItem[] | undefined;
	events: RunEvent[];
	/** The error that stopped the first load (the page cannot show the run). */
	error: unknown;
	/** `live` while following, `retrying` after a lost connection, `done` once the run has ended. */
	connection: "connecting" | "live" | "retrying" | "done";
	/** Changes whenever workspace files may have changed (a job or the run ended). */
	filesVersion: number;
	/** Loads everything again (after start, stop or delete). */
	reload(): void;
}

const maxEvents = 2000;
const waitSeconds = 25;

const sleep = (ms: number, signal: AbortSignal) =>
	new Promise<void>((done) => {
		const timer = setTimeout(done, ms);
		signal.addEventListener("abort", () => {
			clearTimeout(timer);
			done();
		});
	});

/** Follows one run: status, jobs and events, updated as the server reports news. */
export function useRunLive(ref: string): RunLive {
	const [status, setStatus] = useState<RunStatusBody>();
	const [jobs, setJobs] = useState<JobItem[]>();
	const [events, setEvents] = useState<RunEvent[]>([]);
	const [error, setError] = useState<unknown>();
	const [connection, setConnection] = useState<RunLive["connection"]>("connecting");
	const [filesVersion, setFilesVersion] = useState(0);
	const [generation, setGeneration] = useState(0);

	// biome-ignore lint/correctness/useExhaustiveDependencies: `generation` changes only to ask for a reload
	useEffect(() => {
		const controller = new AbortController();
		const { signal } = controller;
		const params = { workflow_id_or_name: ref };
		const refresh = async () => {
			const [s, j] = await Promise.all([
				apiCall("get_workflow_status", { params, signal }),
				apiCall("get_workflow_jobs", { params, signal }),
			]);
			if (signal.aborted) return s;
			setStatus(s);
			setJobs(j.items);
			return s;
		};
		const follow = async () => {
			let current: string;
			try {
				current = (await refresh()).status;
			} catch (e) {
				if (!signal.aborted && !isAbort(e)) setError(e);
				return;
			}
			setError(undefined);
			setEvents([]);
			setConnection("connecting");
			let after = 0;
			let backoff = 1000;
			while (!signal.aborted) {
				try {
					const wasTerminal = isTerminal(current);
					const res = await apiCall("get_workflow_events", {
						params,
						query: { after, wait: wasTerminal ? 0 : waitSeconds },
						signal,
					});
					backoff = 1000;
					const last = res.items.at(-1);
					if (last) {
						after = last.id;
						setEvents((old) => [...old, ...res.items].slice(-maxEvents));
					}
					const changed = res.status !== current;
					current = res.status;
					if (last || changed) {
						await refresh();
						if (res.items.some((e) => e.type.startsWith("job_") || e.type.startsWith("workflow_")))
							setFilesVersion((v) => v + 1);
					}
					if (isTerminal(current) && (wasTerminal || !last)) {
						setConnection("done");
						return;
					}
					setConnection("live");
				} catch (e) {
					if (signal.aborted || isAbort(e)) return;
					setConnection("retrying");
					await sleep(backoff, signal);
					backoff = Math.min(backoff * 2, 30_000);
				}
			}
		};
		void follow();
		return () => controller.abort();
	}, [ref, generation]);

	const reload = useCallback(() => setGeneration((g) => g + 1), []);
	return { status, jobs, events, error, connection, filesVersion, reload };
}
