import { useState } from "react";
import { errorMessage } from "./api-client.js";
import { downloadProvenance } from "./file-transfer.js";
import { formatTimeOfDay } from "./format-time.js";
import { RunDag } from "./run-dag.js";
import type { RunGraph } from "./run-graph.js";
import { RunTimeline } from "./run-timeline.js";
import type { JobItem, RunEvent } from "./use-run-live.js";

/** The DAG of steps, the timeline of jobs and the latest events of a run. */
export function RunOverview(props: {
	runId: string;
	runName: string;
	graph: RunGraph;
	jobs: readonly JobItem[];
	events: readonly RunEvent[];
	isLive: boolean;
	onSelectStep(name: string): void;
}) {
	const recent = props.events.slice(-50).reverse();
	const [provenance, setProvenance] = useState<{ state: "idle" | "busy" } | { state: "failed"; message: string }>({
		state: "idle",
	});
	const saveProvenance = async () => {
		setProvenance({ state: "busy" });
		try {
			await downloadProvenance(props.runId, props.runName);
			setProvenance({ state: "idle" });
		} catch (error) {
			setProvenance({ state: "failed", message: errorMessage(error) });
		}
	};
	return (
		<div className="overview">
			<section aria-labelledby="dag-heading">
				<h2 id="dag-heading">Steps</h2>
				<RunDag graph={props.graph} onSelectStep={props.onSelectStep} />
			</section>
			<section aria-labelledby="timeline-heading">
				<h2 id="timeline-heading">Timeline</h2>
				<RunTimeline jobs={props.jobs} isLive={props.isLive} />
			</section>
			<section aria-labelledby="provenance-heading">
				<h2 id="provenance-heading">Provenance</h2>
				<p className="muted">
					What ran, on what, with which images and parameters, and the SHA-256 of the workflow, input and output files,
					as an RO-Crate (Workflow Run Crate).
				</p>
				<button
					type="button"
					className="button-quiet"
					disabled={provenance.state === "busy"}
					onClick={() => void saveProvenance()}
				>
					{provenance.state === "busy" ? "Preparing provenance…" : "Download provenance (RO-Crate)"}
				</button>
				{provenance.state === "failed" ? <p role="alert">{provenance.message}</p> : null}
			</section>
			<section aria-labelledby="events-heading">
				<h2 id="events-heading">Events</h2>
				{recent.length === 0 ? (
					<p className="muted">No events yet.</p>
				) : (
					<ol className="events" data-testid="events">
						{recent.map((e) => (
							<li key={e.id} className={`event event-${e.level}`}>
								<time dateTime={e.at}>{formatTimeOfDay(Date.parse(e.at))}</time>
								<span className="event-level">{e.level}</span>
								<span>{e.message}</span>
							</li>
						))}
					</ol>
				)}
			</section>
		</div>
	);
}
