import { useId, useState } from "react";
import { errorMessage } from "./api-client.js";
import { LogView } from "./log-view.js";
import { StatusBadge } from "./status-badge.js";
import { useLogTail } from "./use-log-tail.js";
import type { JobItem } from "./use-run-live.js";

const kib = (n: number) => (n < 1024 ? `${n} B` : `${(n / 1024).toFixed(1)} KiB`);

/** One job's command and its stdout or stderr, tailing live while the job runs. */
export function JobLogPanel(props: { runId: string; job: JobItem }) {
	const { job } = props;
	const [stream, setStream] = useState<"stdout" | "stderr">("stdout");
	const tail = useLogTail(props.runId, job.id, stream);
	const name = useId();
	const headingId = useId();
	return (
		<section className="job-log" aria-labelledby={headingId} data-testid="job-log">
			<div className="job-log-head">
				<h2 id={headingId}>
					Log of {job.step_name} <code>{job.key}</code>
					{job.attempt > 1 ? ` (attempt ${job.attempt})` : ""}
				</h2>
				<StatusBadge status={job.status} />
				<fieldset className="segmented">
					<legend className="visually-hidden">Stream</legend>
					{(["stdout", "stderr"] as const).map((s) => (
						<label key={s} className={stream === s ? "is-checked" : undefined}>
							<input type="radio" name={name} value={s} checked={stream === s} onChange={() => setStream(s)} />
							{s}
						</label>
					))}
				</fieldset>
			</div>
			<p className="job-command">
				<span className="muted">
					Command
					{job.image ? ` (image ${job.image}${job.image_used === false ? ", not used: ran on the host" : ""})` : ""}:
				</span>{" "}
				<code>{job.command}</code>
			</p>
			{job.message ? <p className="banner banner-error">{job.message}</p> : null}
			<LogView
				buffer={tail.buffer}
				label={`${stream} of ${job.step_name}`}
				empty={tail.isFollowing ? "Waiting for output…" : `No ${stream} output.`}
			/>
			<p className="log-status muted">
				<span role="status">
					{tail.error
						? `Cannot read the log: ${errorMessage(tail.error)}`
						: tail.isFollowing
							? "Following live"
							: "End of log"}
				</span>
				{` · ${kib(tail.bytes)}`}
			</p>
		</section>
	);
}
