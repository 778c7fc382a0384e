import { useEffect, useId, useState } from "react";

/** Previous, next and "page N of M" with a field to jump; reports the page the user asks for. */
export function Pagination(props: { page: number; pages: number; label: string; onPage(page: number): void }) {
	const { page, pages, onPage } = props;
	const [typed, setTyped] = useState(String(page));
	const id = useId();
	useEffect(() => setTyped(String(page)), [page]);
	const jump = () => {
		const n = Number(typed);
		if (Number.isInteger(n) && n >= 1 && n <= pages && n !== page) onPage(n);
		else setTyped(String(page));
	};
	return (
		<nav className="pagination" aria-label={props.label}>
			<button type="button" className="button-quiet" disabled={page <= 1} onClick={() => onPage(page - 1)}>
				← Previous
			</button>
			<label htmlFor={id} className="pagination-label">
				Page
			</label>
			<input
				id={id}
				className="pagination-input"
				inputMode="numeric"
				value={typed}
				onChange={(e) => setTyped(e.target.value.replace(/\D/g, ""))}
				onBlur={jump}
				onKeyDown={(e) => {
					if (e.key === "Enter") jump();
				}}
			/>
			<span className="pagination-label">of {pages.toLocaleString()}</span>
			<button type="button" className="button-quiet" disabled={page >= pages} onClick={() => onPage(page + 1)}>
				Next →
			</button>
		</nav>
	);
}
