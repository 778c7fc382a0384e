import { useEffect, useId, useState } from "react";
import { apiCall, errorMessage } from "./api-client.js";
import { formatTimeOfDay } from "./format-time.js";
import { Pagination } from "./pagination.js";
import { navigate, useLocation, withQuery } from "./router.js";
import { isActive, runStatuses } from "./run-states.js";
import { RunsTable } from "./runs-table.js";
import { useSession } from "./session-provider.js";
import { usePageTitle } from "./use-page-title.js";
import { useResource } from "./use-resource.js";

const pageSizes = [25, 50, 100, 200] as const;
const defaultSize = 50;

function positive(raw: string | null, fallback: number): number {
	const n = Number(raw);
	return Number.isInteger(n) && n >= 1 ? n : fallback;
}

/** The runs list: search by name, filter by status, pages served by the server, refreshed while shown. */
export function RunsPage() {
	usePageTitle("Runs");
	const { user } = useSession();
	const { query } = useLocation();
	const search = query.get("q") ?? "";
	const status = query.get("status") ?? "";
	const whose = query.get("whose") ?? "";
	const page = positive(query.get("page"), 1);
	const size = positive(query.get("size"), defaultSize);
	const [typed, setTyped] = useState(search);
	const searchId = useId();
	const statusId = useId();
	const sizeId = useId();
	const ownerId = useId();

	// Type-ahead: the URL (and so the request) follows the field a moment after typing stops.
	useEffect(() => setTyped((t) => (t.trim() === search ? t : search)), [search]);
	useEffect(() => {
		if (typed.trim() === search) return;
		const timer = setTimeout(() => navigate(withQuery({ q: typed.trim(), page: undefined }), { replace: true }), 250);
		return () => clearTimeout(timer);
	}, [typed, search]);

	const key = JSON.stringify([search, status, whose, page, size]);
	const runs = useResource(
		key,
		(signal) =>
			apiCall("get_workflows", {
				query: {
					search: search || undefined,
					status: status || undefined,
					page,
					size,
					sort: "desc",
					// Runs others shared with you: only those, or together with yours.
					shared_with_me: whose === "shared" || undefined,
					shared: whose === "all" || undefined,
				},
				signal,
			}),
		(data) => (data?.items.some((r) => isActive(r.status)) ? 3000 : 5000),
	);
	const data = runs.data;

	// Filters or deletions can leave the page number past the end: go to the last page that has runs.
	useEffect(() => {
		if (data && !runs.isStale && data.items.length === 0 && data.total > 0 && page > 1)
			navigate(withQuery({ page: Math.ceil(data.total / size) }), { replace: true });
	}, [data, runs.isStale, page, size]);
	const pages = data ? Math.max(1, Math.ceil(data.total / size)) : 1;
	const first = data && data.total > 0 ? (page - 1) * size + 1 : 0;
	const last = data ? Math.min(data.total, page * size) : 0;

	return (
		<section className="runs-page">
			<div className="page-head">
				<h1>Runs</h1>
				<p className="page-status" role="status">
					{data
						? `${first.toLocaleString()}–${last.toLocaleString()} of ${data.total.toLocaleString()} runs`
						: "Loading runs…"}
				</p>
			</div>
			<form className="filters" aria-label="Filter runs" onSubmit={(e) => e.preventDefault()}>
				<div className="field">
					<label htmlFor={searchId}>Name contains</label>
					<input id={searchId} type="search" value={typed} onChange={(e) => setTyped(e.target.value)} />
				</div>
				<div className="field">
					<label htmlFor={statusId}>Status</label>
					<select
						id={statusId}
						value={status}
						onChange={(e) => navigate(withQuery({ status: e.target.value, page: undefined }))}
					>
						<option value="">any (not deleted)</option>
						{runStatuses.map((s) => (
							<option key={s} value={s}>
								{s}
							</option>
						))}
					</select>
				</div>
				<div className="field">
					<label htmlFor={ownerId}>Whose</label>
					<select
						id={ownerId}
						value={whose}
						onChange={(e) => navigate(withQuery({ whose: e.target.value, page: undefined }))}
					>
						<option value="">my runs</option>
						<option value="shared">shared with me</option>
						<option value="all">mine and shared with me</option>
					</select>
				</div>
				<div className="field">
					<label htmlFor={sizeId}>Per page</label>
					<select
						id={sizeId}
						value={size}
						onChange={(e) => navigate(withQuery({ size: e.target.value, page: undefined }))}
					>
						{pageSizes.map((n) => (
							<option key={n} value={n}>
								{n}
							</option>
						))}
					</select>
				</div>
			</form>
			<div className="refresh-line">
				{runs.error ? (
					<span className="inline-error" role="alert">
						Could not refresh: {errorMessage(runs.error)}{" "}
						<button type="button" className="button-link" onClick={runs.reload}>
							Retry
						</button>
					</span>
				) : runs.updatedAt ? (
					<span className="muted">Updated {formatTimeOfDay(runs.updatedAt)} · refreshes automatically</span>
				) : null}
			</div>
			<RunsTable items={data?.items} myId={user?.id} placeholderRows={Math.min(size, 12)} isStale={runs.isStale} />
			{data && data.items.length === 0 ? (
				<p className="empty">
					{data.user_has_workflows || search || status || whose
						? "No runs match these filters."
						: "No runs yet. Start one with: orrery run examples/helloworld"}
				</p>
			) : null}
			{pages > 1 ? (
				<Pagination page={page} pages={pages} label="Runs pages" onPage={(p) => navigate(withQuery({ page: p }))} />
			) : null}
		</section>
	);
}
