import { elapsed, formatDateTime, formatDuration } from "./format-time.js";
import { StatusBadge } from "./status-badge.js";
import { useNow } from "./use-now.js";
import type { JobItem } from "./use-run-live.js";

/** Every job of a run (all attempts) with a button to show its log. */
export function JobTable(props: {
	jobs: readonly JobItem[];
	selected: string | undefined;
	onSelect(jobId: string): void;
}) {
	const now = useNow(props.jobs.some((j) => j.status === "running") ? 1000 : null);
	if (props.jobs.length === 0) return <p className="muted">No jobs yet.</p>;
	return (
		<div className="table-scroll">
			<table className="job-table" data-testid="job-table">
				<caption className="visually-hidden">Jobs of this run</caption>
				<thead>
					<tr>
						<th scope="col">Step</th>
						<th scope="col">Job</th>
						<th scope="col">Status</th>
						<th scope="col">Backend</th>
						<th scope="col" className="numeric">
							Exit
						</th>
						<th scope="col">Started</th>
						<th scope="col" className="numeric">
							Duration
						</th>
						<th scope="col">
							<span className="visually-hidden">Log</span>
						</th>
					</tr>
				</thead>
				<tbody>
					{props.jobs.map((j) => {
						const took = elapsed(j.started_at, j.finished_at, now);
						const isSelected = j.id === props.selected;
						return (
							<tr key={j.id} data-job-id={j.id} className={isSelected ? "is-selected" : undefined}>
								<th scope="row">{j.step_name}</th>
								<td>
									<code>{j.key}</code>
									{j.attempt > 1 ? <span className="muted"> · attempt {j.attempt}</span> : null}
								</td>
								<td>
									<StatusBadge status={j.status} />
									{j.cached_from ? (
										<span className="muted" title={j.message ?? undefined}>
											{" "}
											· reused
										</span>
									) : null}
								</td>
								<td title={j.backend_job_id ?? undefined}>{j.compute_backend}</td>
								<td className="numeric">{j.exit_code ?? "–"}</td>
								<td>{formatDateTime(j.started_at)}</td>
								<td className="numeric">{took === undefined ? "–" : formatDuration(took)}</td>
								<td>
									<button
										type="button"
										className="button-quiet"
										aria-pressed={isSelected}
										aria-label={`Log of ${j.step_name} ${j.key}${j.attempt > 1 ? ` attempt ${j.attempt}` : ""}`}
										onClick={() => props.onSelect(j.id)}
									>
										Log
									</button>
								</td>
							</tr>
						);
					})}
				</tbody>
			</table>
		</div>
	);
}
