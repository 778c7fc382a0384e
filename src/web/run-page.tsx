import { ApiError, apiCall, errorMessage } from "./api-client.js";
import { FileBrowser } from "./file-browser.js";
import { elapsed, formatDateTime, formatDuration } from "./format-time.js";
import { JobLogPanel } from "./job-log-panel.js";
import { JobTable } from "./job-table.js";
import { ProgressBar } from "./progress-bar.js";
import { Link, navigate, useLocation, withQuery } from "./router.js";
import { RunActions } from "./run-actions.js";
import { runGraph } from "./run-graph.js";
import { RunOverview } from "./run-overview.js";
import { isActive, isTerminal } from "./run-states.js";
import { useSession } from "./session-provider.js";
import { SharingPanel } from "./sharing-panel.js";
import { SpecView } from "./spec-view.js";
import { StatusBadge } from "./status-badge.js";
import { TabList } from "./tab-list.js";
import { useNow } from "./use-now.js";
import { usePageTitle } from "./use-page-title.js";
import { useResource } from "./use-resource.js";
import { type JobItem, useRunLive } from "./use-run-live.js";

const tabs = [
	{ id: "overview", label: "Overview" },
	{ id: "jobs", label: "Jobs and logs" },
	{ id: "files", label: "Files" },
	{ id: "spec", label: "Specification" },
	{ id: "sharing", label: "Sharing" },
] as const;

/** The job whose log to show when none is chosen: the running one, else the last failed, else the last. */
function defaultJob(jobs: readonly JobItem[]): JobItem | undefined {
	return jobs.findLast((j) => j.status === "running") ?? jobs.findLast((j) => j.status === "failed") ?? jobs.at(-1);
}

/** One run: status, progress and actions, with tabs for its steps, jobs and logs, files, specification, sharing. */
export function RunPage({ runRef }: { runRef: string }) {
	const { query } = useLocation();
	const tab = tabs.find((t) => t.id === query.get("tab"))?.id ?? "overview";
	const live = useRunLive(runRef);
	const { user } = useSession();
	const params = { workflow_id_or_name: runRef };
	const spec = useResource(`spec\n${runRef}`, (signal) => apiCall("get_workflow_specification", { params, signal }));
	const item = useResource(`item\n${runRef}\n${live.filesVersion}`, async (signal) => {
		const res = await apiCall("get_workflows", {
			query: { workflow_id_or_name: runRef, include_workspace_size: true },
			signal,
		});
		return res.items[0];
	});
	const status = live.status;
	const now = useNow(status && isActive(status.status) ? 1000 : null);
	usePageTitle(status ? `${status.name} (${status.status})` : "Run");

	if (live.error) {
		const isMissing = live.error instanceof ApiError && live.error.status === 404;
		return (
			<section>
				<h1>{isMissing ? "No such run" : "Cannot show this run"}</h1>
				<p className="inline-error" role="alert">
					{errorMessage(live.error)}
				</p>
				<p>
					<Link href="/runs">Back to your runs</Link>
				</p>
			</section>
		);
	}
	if (!status || !live.jobs) {
		return (
			<section aria-busy="true">
				<h1>Loading run…</h1>
			</section>
		);
	}

	const p = status.progress;
	const ended = p.run_finished_at ?? p.run_stopped_at;
	const took = elapsed(p.run_started_at, ended, now);
	const jobs = live.jobs;
	const selectedJob = jobs.find((j) => j.id === query.get("job")) ?? defaultJob(jobs);
	const graph = runGraph(spec.data?.specification, jobs);
	const selectStep = (name: string) => {
		const job = jobs.findLast((j) => j.step_name === name);
		navigate(withQuery({ tab: "jobs", job: job?.id }));
	};

	return (
		<article className="run-page" data-run-status={status.status}>
			<nav aria-label="Breadcrumb" className="breadcrumb">
				<ol>
					<li>
						<Link href="/runs">Runs</Link>
					</li>
					<li aria-current="page">{status.name}</li>
				</ol>
			</nav>
			<div className="run-head">
				<h1>{status.name}</h1>
				<span data-testid="run-status">
					<StatusBadge status={status.status} />
				</span>
				<span className="visually-hidden" aria-live="polite">
					Run {status.status}
				</span>
				<span className={`connection connection-${live.connection}`}>
					{live.connection === "live"
						? "● live"
						: live.connection === "retrying"
							? "reconnecting…"
							: live.connection === "done"
								? ""
								: "connecting…"}
				</span>
				<RunActions runId={status.id} name={status.name} status={status.status} onChanged={live.reload} />
			</div>
			<dl className="facts run-facts">
				<div>
					<dt>Created</dt>
					<dd>{formatDateTime(status.created)}</dd>
				</div>
				<div>
					<dt>Started</dt>
					<dd>{formatDateTime(p.run_started_at)}</dd>
				</div>
				<div>
					<dt>{p.run_stopped_at ? "Stopped" : "Ended"}</dt>
					<dd>{formatDateTime(ended)}</dd>
				</div>
				<div>
					<dt>Duration</dt>
					<dd>{took === undefined ? "–" : formatDuration(took)}</dd>
				</div>
				<div>
					<dt>Workspace</dt>
					<dd>{item.data?.size.human_readable || "–"}</dd>
				</div>
			</dl>
			{status.message && (status.status === "failed" || status.status === "stopped") ? (
				<pre className="banner banner-error run-message">{status.message}</pre>
			) : null}
			<div className="run-progress">
				<ProgressBar
					finished={p.finished.total}
					failed={p.failed.total}
					running={p.running.total}
					total={p.total.total}
				/>
				<span className="muted">
					{p.finished.total} of {p.total.total} jobs finished
					{p.failed.total ? `, ${p.failed.total} failed` : ""}
					{p.current_step_name && !isTerminal(status.status) ? ` · now: ${p.current_step_name}` : ""}
				</span>
			</div>
			<TabList
				label="Run sections"
				tabs={tabs}
				selected={tab}
				onSelect={(id) => navigate(withQuery({ tab: id === "overview" ? undefined : id }), { replace: true })}
			/>
			<div role="tabpanel" id={`panel-${tab}`} aria-labelledby={`tab-${tab}`} className="tab-panel">
				{tab === "overview" ? (
					<RunOverview
						runId={status.id}
						runName={status.name}
						graph={graph}
						jobs={jobs}
						events={live.events}
						isLive={!isTerminal(status.status)}
						onSelectStep={selectStep}
					/>
				) : tab === "jobs" ? (
					<div className="jobs">
						<JobTable
							jobs={jobs}
							selected={selectedJob?.id}
							onSelect={(id) => navigate(withQuery({ job: id }), { replace: true })}
						/>
						{selectedJob ? <JobLogPanel key={selectedJob.id} runId={status.id} job={selectedJob} /> : null}
					</div>
				) : tab === "files" ? (
					<FileBrowser
						runId={status.id}
						dir={query.get("dir") ?? ""}
						selected={query.get("file") ?? undefined}
						filesVersion={live.filesVersion}
					/>
				) : tab === "spec" ? (
					<SpecView spec={spec} />
				) : (
					<SharingPanel
						runId={status.id}
						runName={status.name}
						ownerEmail={item.data?.owner_email}
						isOwner={user !== undefined && item.data?.user === user.id}
					/>
				)}
			</div>
		</article>
	);
}
