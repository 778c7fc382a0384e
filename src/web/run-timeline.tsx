import { elapsed, formatDateTime, formatDuration } from "./format-time.js";
import { stateLook } from "./run-states.js";
import { useNow } from "./use-now.js";
import type { JobItem } from "./use-run-live.js";

const tickSteps = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 14400, 43200, 86400];

/** Tick positions (ms after the start) that divide `span` into 3 to 8 readable steps. */
export function timelineTicks(span: number): number[] {
	const step = (tickSteps.find((s) => span / (s * 1000) <= 8) ?? 86400) * 1000;
	const ticks: number[] = [];
	for (let t = 0; t <= span; t += step) ticks.push(t);
	return ticks;
}

function tickLabel(ms: number): string {
	return ms === 0 ? "0" : `+${formatDuration(ms)}`;
}

/** A Gantt chart of a run's jobs: waiting (created → started) and running (started → finished, or now). */
export function RunTimeline(props: { jobs: readonly JobItem[]; isLive: boolean }) {
	const now = useNow(props.isLive ? 1000 : null);
	const jobs = [...props.jobs].sort((a, b) => Date.parse(a.created_at) - Date.parse(b.created_at));
	if (jobs.length === 0) return <p className="muted">No jobs yet.</p>;
	const t0 = Math.min(...jobs.map((j) => Date.parse(j.created_at)));
	const endOf = (j: JobItem) =>
		j.finished_at ? Date.parse(j.finished_at) : props.isLive ? now : Date.parse(j.started_at ?? j.created_at);
	const span = Math.max(1000, Math.max(...jobs.map(endOf)) - t0);
	const pct = (t: number) => `${Math.min(100, Math.max(0, (100 * (t - t0)) / span))}%`;
	const width = (from: number, to: number) => `${Math.max(0.4, (100 * Math.max(0, to - from)) / span)}%`;
	return (
		<figure className="timeline">
			<figcaption className="muted">
				Jobs over time, from {formatDateTime(new Date(t0).toISOString())}. Light: waiting for the backend; solid:
				running.
			</figcaption>
			<div className="timeline-axis" aria-hidden="true">
				<span className="timeline-label" />
				<span className="timeline-track">
					{timelineTicks(span).map((t) => (
						<span key={t} className="timeline-tick" style={{ left: `${(100 * t) / span}%` }}>
							{tickLabel(t)}
						</span>
					))}
				</span>
				<span className="timeline-meta" />
			</div>
			<ol className="timeline-rows">
				{jobs.map((j) => {
					const created = Date.parse(j.created_at);
					const started = j.started_at ? Date.parse(j.started_at) : undefined;
					const end = endOf(j);
					const tone = stateLook(j.status).tone;
					const waited = elapsed(j.created_at, j.started_at ?? (props.isLive ? null : j.finished_at), now);
					const ran = elapsed(j.started_at, j.finished_at, now);
					const words = `${j.step_name} (${j.key}${j.attempt > 1 ? `, attempt ${j.attempt}` : ""}) on ${j.compute_backend}: ${j.status}; waited ${waited === undefined ? "–" : formatDuration(waited)}, ran ${ran === undefined ? "–" : formatDuration(ran)}`;
					return (
						<li key={j.id} className="timeline-row" title={words}>
							<span className="timeline-label">
								{j.step_name}
								<span className="muted"> {j.key}</span>
							</span>
							<span className="timeline-track">
								<span className="visually-hidden">{words}</span>
								<span
									className="timeline-bar timeline-wait"
									style={{ left: pct(created), width: width(created, started ?? end) }}
								/>
								{started !== undefined ? (
									<span
										className={`timeline-bar tone-${tone}`}
										style={{ left: pct(started), width: width(started, end) }}
									/>
								) : null}
							</span>
							<span className="timeline-meta">
								{j.compute_backend} · {ran === undefined ? "–" : formatDuration(ran)}
							</span>
						</li>
					);
				})}
			</ol>
		</figure>
	);
}
