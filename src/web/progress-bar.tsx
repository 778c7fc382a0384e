/** Finished, failed and running jobs out of the total, as a bar with its numbers in words for screen readers. */
export function ProgressBar(props: {
	finished: number;
	failed: number;
	running: number;
	total: number;
	label?: string;
}) {
	const { finished, failed, running } = props;
	const total = Math.max(props.total, finished + failed + running, 1);
	const pct = (n: number) => `${(100 * n) / total}%`;
	const words = `${finished} of ${props.total} jobs finished${failed ? `, ${failed} failed` : ""}${running ? `, ${running} running` : ""}`;
	return (
		<div className="progress" role="img" aria-label={props.label ? `${props.label}: ${words}` : words} title={words}>
			<span className="progress-part tone-ok" style={{ width: pct(finished) }} />
			<span className="progress-part tone-failed" style={{ width: pct(failed) }} />
			<span className="progress-part tone-running" style={{ width: pct(running) }} />
		</div>
	);
}
