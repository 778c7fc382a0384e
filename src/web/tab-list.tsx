import { type KeyboardEvent, useRef } from "react";

/** One tab of a TabList. */
export interface Tab {
	id: string;
	label: string;
}

/** WAI-ARIA tabs: one tab stop, arrow keys, Home and End move between tabs and select them. */
export function TabList(props: { label: string; tabs: readonly Tab[]; selected: string; onSelect(id: string): void }) {
	const refs = useRef(new Map<string, HTMLButtonElement>());
	const move = (event: KeyboardEvent, index: number) => {
		const n = props.tabs.length;
		const to =
			event.key === "ArrowRight"
				? (index + 1) % n
				: event.key === "ArrowLeft"
					? (index - 1 + n) % n
					: event.key === "Home"
						? 0
						: event.key === "End"
							? n - 1
							: -1;
		if (to < 0) return;
		event.preventDefault();
		const tab = props.tabs[to];
		if (!tab) return;
		props.onSelect(tab.id);
		refs.current.get(tab.id)?.focus();
	};
	return (
		<div role="tablist" aria-label={props.label} className="tabs">
			{props.tabs.map((tab, index) => (
				<button
					key={tab.id}
					ref={(el) => {
						if (el) refs.current.set(tab.id, el);
						else refs.current.delete(tab.id);
					}}
					type="button"
					role="tab"
					id={`tab-${tab.id}`}
					aria-selected={tab.id === props.selected}
					aria-controls={`panel-${tab.id}`}
					tabIndex={tab.id === props.selected ? 0 : -1}
					className="tab"
					onClick={() => props.onSelect(tab.id)}
					onKeyDown={(event) => move(event, index)}
				>
					{tab.label}
				</button>
			))}
		</div>
	);
}
