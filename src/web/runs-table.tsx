import type { CallOutput } from "./api-client.js";
import { elapsed, formatDateTime, formatDuration, formatRelative } from "./format-time.js";
import { ProgressBar } from "./progress-bar.js";
import { Link } from "./router.js";
import { StatusBadge } from "./status-badge.js";

/** One run of a listing, as the API sends it. */
export type RunItem = CallOutput<"get_workflows">["items"][number];

/** The runs of one page: fixed column widths and row heights, so refreshes and filters never shift the layout. */
export function RunsTable(props: {
	items: readonly RunItem[] | undefined;
	/** The signed-in user: runs of others show their owner. */
	myId: string | undefined;
	placeholderRows: number;
	isStale: boolean;
}) {
	const now = Date.now();
	return (
		<table
			className={`runs-table${props.isStale ? " is-stale" : ""}`}
			data-testid="runs-table"
			aria-busy={props.isStale}
		>
			<caption className="visually-hidden">Your runs, newest first</caption>
			<colgroup>
				<col className="col-name" />
				<col className="col-status" />
				<col className="col-progress" />
				<col className="col-created" />
				<col className="col-duration" />
			</colgroup>
			<thead>
				<tr>
					<th scope="col">Run</th>
					<th scope="col">Status</th>
					<th scope="col">Progress</th>
					<th scope="col">Created</th>
					<th scope="col" className="numeric">
						Duration
					</th>
				</tr>
			</thead>
			<tbody>
				{props.items
					? props.items.map((run) => (
							<RunRow key={run.id} run={run} now={now} isMine={props.myId === undefined || run.user === props.myId} />
						))
					: Array.from({ length: props.placeholderRows }, (_, i) => (
							// biome-ignore lint/suspicious/noArrayIndexKey: placeholders have nothing else to key on
							<tr key={i} className="placeholder-row">
								<td colSpan={5}>
									<span className="placeholder-bar" />
								</td>
							</tr>
						))}
			</tbody>
		</table>
	);
}

function RunRow({ run, now, isMine }: { run: RunItem; now: number; isMine: boolean }) {
	const p = run.progress;
	const end = p.run_finished_at ?? p.run_stopped_at;
	const took = elapsed(p.run_started_at, end, now);
	return (
		<tr data-run-id={run.id}>
			<td className="cell-name">
				<Link href={`/runs/${encodeURIComponent(run.id)}`}>{run.name}</Link>
				{isMine ? null : <span className="muted"> · {run.owner_email}</span>}
			</td>
			<td>
				<StatusBadge status={run.status} />
			</td>
			<td>
				<div className="progress-cell">
					<ProgressBar
						finished={p.finished.total}
						failed={p.failed.total}
						running={p.running.total}
						total={p.total.total}
						label={run.name}
					/>
					<span className="progress-numbers">
						{p.finished.total}/{p.total.total}
					</span>
				</div>
			</td>
			<td title={formatDateTime(run.created)}>{formatRelative(run.created, now)}</td>
			<td className="numeric">{took === undefined ? "–" : formatDuration(took)}</td>
		</tr>
	);
}
