import type { ReactNode } from "react";

/** Says plainly that a feature is missing on this server, why, and what to do meanwhile. */
export function UnavailableNotice(props: { title: string; children?: ReactNode }) {
	return (
		<section className="notice" data-testid="unavailable" aria-label={props.title}>
			<h2 className="notice-title">
				<span aria-hidden="true" className="notice-icon">
					i
				</span>
				{props.title}
			</h2>
			<p>Not available on this server: it does not offer this part of the API (an older or smaller Orrery).</p>
			{props.children}
		</section>
	);
}
