import type { ReactNode } from "react";

/** Preformatted text in a labelled region that scrolls and can be reached and scrolled with the keyboard. */
export function ScrollRegion(props: { label: string; className: string; testId?: string; children: ReactNode }) {
	return (
		<section
			className={`scroll-region ${props.className}`}
			aria-label={props.label}
			// biome-ignore lint/a11y/noNoninteractiveTabindex: a scrollable region must be reachable by keyboard
			tabIndex={0}
			data-testid={props.testId}
		>
			<pre>{props.children}</pre>
		</section>
	);
}
