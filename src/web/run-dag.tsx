import type { KeyboardEvent } from "react";
import { layoutDag } from "./dag-layout.js";
import type { RunGraph, StepNode } from "./run-graph.js";
import { stateLook } from "./run-states.js";

const sizes = { nodeWidth: 210, nodeHeight: 78, gapX: 56, gapY: 24, margin: 8 };
const maxChips = 14;

function describe(step: StepNode): string {
	const done = step.jobs.filter((j) => j.status === "finished").length;
	const total = Math.max(step.planned ?? 0, step.jobs.length);
	return `Step ${step.name}: ${step.status}, ${done} of ${total} jobs finished`;
}

/** The steps of a run as a left-to-right DAG, each node coloured by its state and showing its jobs as chips. */
export function RunDag(props: { graph: RunGraph; onSelectStep(name: string): void }) {
	const { graph } = props;
	if (graph.steps.length === 0)
		return <p className="muted">No steps yet: they appear when the run starts and the engine plans its jobs.</p>;
	const layout = layoutDag(
		graph.steps.map((s) => s.name),
		graph.edges,
		sizes,
	);
	const byName = new Map(graph.steps.map((s) => [s.name, s]));
	const activate = (event: KeyboardEvent, name: string) => {
		if (event.key !== "Enter" && event.key !== " ") return;
		event.preventDefault();
		props.onSelectStep(name);
	};
	return (
		<div className="dag-scroll">
			<svg className="dag" width={layout.width} height={layout.height} viewBox={`0 0 ${layout.width} ${layout.height}`}>
				<title>{`Steps of the run${graph.hasDependencies ? ", in order" : ""}`}</title>
				<defs>
					<marker id="dag-arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto">
						<path d="M0,0 L10,5 L0,10 z" className="dag-arrow" />
					</marker>
				</defs>
				{layout.edges.map((e) => (
					<path key={`${e.from}->${e.to}`} d={e.path} className="dag-edge" markerEnd="url(#dag-arrow)" />
				))}
				{layout.nodes.map((n) => {
					const step = byName.get(n.id) as StepNode;
					const look = stateLook(step.status);
					const extra = step.jobs.length - maxChips;
					return (
						// biome-ignore lint/a11y/useSemanticElements: an SVG node cannot be a <button>
						<g
							key={n.id}
							transform={`translate(${n.x},${n.y})`}
							className={`dag-node tone-${look.tone}`}
							role="button"
							tabIndex={0}
							aria-label={describe(step)}
							data-step={step.name}
							data-status={step.status}
							onClick={() => props.onSelectStep(step.name)}
							onKeyDown={(e) => activate(e, step.name)}
						>
							<title>{describe(step)}</title>
							<rect width={sizes.nodeWidth} height={sizes.nodeHeight} rx="8" className="dag-box" />
							<text x="12" y="24" className="dag-name">
								{step.name.length > 24 ? `${step.name.slice(0, 23)}…` : step.name}
							</text>
							<text x="12" y="44" className="dag-state">
								{look.glyph} {step.status}
							</text>
							{step.jobs.slice(0, maxChips).map((j, i) => (
								<rect
									key={j.id}
									x={12 + i * 13}
									y="54"
									width="10"
									height="12"
									rx="2"
									className={`dag-chip tone-${stateLook(j.status).tone}`}
								/>
							))}
							{extra > 0 ? (
								<text x={12 + maxChips * 13} y="65" className="dag-more">
									+{extra}
								</text>
							) : null}
						</g>
					);
				})}
			</svg>
			{graph.hasDependencies ? null : (
				<p className="muted">This server does not report how these steps depend on each other yet.</p>
			)}
		</div>
	);
}
