import { useId } from "react";
import { apiCall, type CallOutput, errorMessage } from "./api-client.js";
import { StatusBadge } from "./status-badge.js";
import { UnavailableNotice } from "./unavailable-notice.js";
import { usePageTitle } from "./use-page-title.js";
import { useResource } from "./use-resource.js";

type Report = CallOutput<"get_you">["quota"]["cpu"];

function QuotaMeter(props: { title: string; what: string; report: Report }) {
	const { usage, limit, health } = props.report;
	const id = useId();
	const hasLimit = limit.raw > 0;
	return (
		<section className="quota" aria-labelledby={id} data-testid={`quota-${props.title.toLowerCase()}`}>
			<h2 id={id}>
				{props.title} <StatusBadge status={health} />
			</h2>
			<p className="muted">{props.what}</p>
			{hasLimit ? (
				<meter
					className="quota-meter"
					min={0}
					max={limit.raw}
					low={limit.raw * 0.8}
					high={limit.raw}
					optimum={0}
					value={Math.min(usage.raw, limit.raw)}
					aria-label={`${props.title}: ${usage.human_readable} of ${limit.human_readable}`}
				/>
			) : null}
			<p className="quota-numbers">
				<strong>{usage.human_readable}</strong> used
				{hasLimit ? ` of ${limit.human_readable} (${Math.round((100 * usage.raw) / limit.raw)}%)` : ", no limit set"}
			</p>
		</section>
	);
}

/** CPU time and disk space used against the user's limits, as /api/you reports them. */
export function QuotaPage() {
	usePageTitle("Quota");
	const you = useResource("you", (signal) => apiCall("get_you", { signal }), 30_000);
	const quota = you.data?.quota;
	return (
		<section className="quota-page">
			<h1>Quota</h1>
			{you.error ? (
				<p className="inline-error" role="alert">
					Cannot load your usage: {errorMessage(you.error)}
				</p>
			) : null}
			{you.data && !quota ? (
				<UnavailableNotice title="Quota usage">
					<p>Each run's page shows the size of its workspace meanwhile.</p>
				</UnavailableNotice>
			) : null}
			{quota ? (
				<div className="quotas">
					<QuotaMeter title="CPU" what="Wall time of your runs' jobs." report={quota.cpu} />
					<QuotaMeter title="Disk" what="Space taken by your runs' workspaces." report={quota.disk} />
				</div>
			) : you.error ? null : (
				<p className="muted">Loading…</p>
			)}
			<p className="hint">
				Usage is recounted when runs end. Over a limit, creating and starting runs is refused until space or time is
				freed (delete old runs) or an administrator raises the limit.
			</p>
		</section>
	);
}
