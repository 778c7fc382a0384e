import { useEffect, useState } from "react";
import { ApiError, apiCall, isAbort } from "./api-client.js";
import { appendLog, emptyLog, type LogBuffer } from "./log-buffer.js";
import { isTerminal } from "./run-states.js";

/** A job's log as far as it has been read, and whether more may come. */
export interface LogTail {
	buffer: LogBuffer;
	bytes: number;
	/** True while the job runs and its log is polled for more. */
	isFollowing: boolean;
	error: unknown;
}

const chunkBytes = 1024 * 1024;
const pollMs = 1000;

const sleep = (ms: number, signal: AbortSignal) =>
	new Promise<void>((done) => {
		const timer = setTimeout(done, ms);
		signal.addEventListener("abort", () => {
			clearTimeout(timer);
			done();
		});
	});

/** Reads a job's stdout or stderr from the start and keeps reading from where it stopped while the job runs. */
export function useLogTail(runId: string, jobId: string, stream: "stdout" | "stderr"): LogTail {
	const [tail, setTail] = useState<LogTail>({ buffer: emptyLog(), bytes: 0, isFollowing: true, error: undefined });

	useEffect(() => {
		const controller = new AbortController();
		const { signal } = controller;
		setTail({ buffer: emptyLog(), bytes: 0, isFollowing: true, error: undefined });
		const follow = async () => {
			let buffer = emptyLog();
			let offset = 0;
			let lastLook = false;
			let backoff = pollMs;
			while (!signal.aborted) {
				try {
					const res = await apiCall("get_job_log", {
						params: { workflow_id_or_name: runId, job_id: jobId },
						query: { stream, offset, max_bytes: chunkBytes },
						signal,
					});
					backoff = pollMs;
					const read = res.next_offset - res.offset;
					offset = res.next_offset;
					buffer = appendLog(buffer, res.data);
					const ended = isTerminal(res.status);
					const more = read >= chunkBytes - 4;
					const done = ended && !more && lastLook;
					setTail({ buffer, bytes: offset, isFollowing: !done, error: undefined });
					if (done) return;
					if (more) continue;
					// After the job ends, read once more: the last lines may land just after the status changed.
					if (ended) lastLook = true;
					await sleep(ended ? 200 : pollMs, signal);
				} catch (error) {
					if (signal.aborted || isAbort(error)) return;
					const isFinal = error instanceof ApiError && (error.status === 404 || error.status === 403);
					setTail((t) => ({ ...t, error, isFollowing: !isFinal }));
					if (isFinal) return;
					await sleep(backoff, signal);
					backoff = Math.min(backoff * 2, 30_000);
				}
			}
		};
		void follow();
		return () => controller.abort();
	}, [runId, jobId, stream]);

	return tail;
}
