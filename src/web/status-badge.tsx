import { stateLook } from "./run-states.js";

/** A run's or job's state as a badge: glyph and word, coloured by tone. */
export function StatusBadge({ status }: { status: string }) {
	const look = stateLook(status);
	return (
		<span className={`badge tone-${look.tone}`}>
			<span aria-hidden="true" className="badge-glyph">
				{look.glyph}
			</span>
			{status}
		</span>
	);
}
