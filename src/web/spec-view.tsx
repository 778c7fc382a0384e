import { ApiError, type CallOutput, errorMessage } from "./api-client.js";
import { ScrollRegion } from "./scroll-region.js";
import { UnavailableNotice } from "./unavailable-notice.js";
import type { Resource } from "./use-resource.js";
import { yamlLines } from "./yaml-lines.js";

/** A run's specification and parameters as the server returns them. */
export type SpecBody = CallOutput<"get_workflow_specification">;

/** Highlighted YAML of any JSON value. */
export function YamlBlock(props: { value: unknown; label: string }) {
	const lines = yamlLines(props.value);
	return (
		<ScrollRegion className="yaml" label={props.label} testId="yaml">
			{lines.map((line, i) => (
				// biome-ignore lint/suspicious/noArrayIndexKey: lines are positional
				<span key={i} className="yaml-line">
					{line.map((t, j) =>
						t.kind === "space" ? (
							t.text
						) : (
							// biome-ignore lint/suspicious/noArrayIndexKey: tokens are positional
							<span key={j} className={`yaml-${t.kind}`}>
								{t.text}
							</span>
						),
					)}
					{"\n"}
				</span>
			))}
		</ScrollRegion>
	);
}

/** The parameters of a run, then its specification as YAML. */
export function SpecView({ spec }: { spec: Resource<SpecBody> }) {
	if (spec.error instanceof ApiError && spec.error.isUnavailable)
		return (
			<UnavailableNotice title="Specification and parameters">
				<p>
					This server does not return the specification of a run yet. The <code>reana.yaml</code> you started the run
					from is the one it used.
				</p>
			</UnavailableNotice>
		);
	if (spec.error)
		return (
			<p className="inline-error" role="alert">
				Cannot load the specification: {errorMessage(spec.error)}
			</p>
		);
	if (!spec.data) return <p className="muted">Loading the specification…</p>;
	const declared = (spec.data.specification as { inputs?: { parameters?: Record<string, unknown> } }).inputs
		?.parameters;
	const given = spec.data.parameters;
	const parameters = Object.entries({ ...declared, ...given });
	return (
		<div className="spec">
			<h2>Parameters</h2>
			{parameters.length === 0 ? (
				<p className="muted">This run has no input parameters.</p>
			) : (
				<table className="parameters">
					<caption className="visually-hidden">Input parameters</caption>
					<thead>
						<tr>
							<th scope="col">Name</th>
							<th scope="col">Value</th>
							<th scope="col">Source</th>
						</tr>
					</thead>
					<tbody>
						{parameters.map(([k, v]) => (
							<tr key={k}>
								<th scope="row">
									<code>{k}</code>
								</th>
								<td>
									<code>{typeof v === "string" ? v : JSON.stringify(v)}</code>
								</td>
								<td className="muted">{Object.hasOwn(given, k) ? "given at start" : "specification"}</td>
							</tr>
						))}
					</tbody>
				</table>
			)}
			<h2>Specification</h2>
			<YamlBlock value={spec.data.specification} label="The run's specification (reana.yaml)" />
		</div>
	);
}
