import { useState } from "react";
import { ApiError, apiCall, type CallOutput, errorMessage } from "./api-client.js";
import { formatDateTime } from "./format-time.js";
import { ShareForm } from "./share-form.js";
import { UnavailableNotice } from "./unavailable-notice.js";
import { useResource } from "./use-resource.js";

type Share = CallOutput<"get_workflow_share_status">["shared_with"][number];

/** Who owns a run and who it is shared with; its owner shares and unshares it here. */
export function SharingPanel(props: {
	runId: string;
	runName: string;
	ownerEmail: string | undefined;
	/** True when the signed-in user owns the run (only owners share). */
	isOwner: boolean;
}) {
	const [note, setNote] = useState<{ text: string; isError?: boolean }>();
	const status = useResource(`shares\n${props.runId}`, (signal) =>
		apiCall("get_workflow_share_status", { params: { workflow_id_or_name: props.runId }, signal }),
	);
	const shares = status.data?.shared_with ?? [];
	const isUnavailable = status.error instanceof ApiError && status.error.isUnavailable;

	const unshare = async (share: Share) => {
		try {
			const res = await apiCall("unshare_workflow", {
				params: { workflow_id_or_name: props.runId },
				query: {
					...(share.group ? { group: share.group } : { user_email_to_unshare_with: share.user_email }),
					...(share.all_runs ? { all_runs: true } : {}),
				},
			});
			setNote({ text: res.message });
			status.reload();
		} catch (e) {
			setNote({ text: errorMessage(e), isError: true });
		}
	};

	if (isUnavailable)
		return (
			<UnavailableNotice title="Sharing">
				<p>Share results meanwhile by downloading them from the Files tab.</p>
			</UnavailableNotice>
		);
	return (
		<div className="sharing">
			<dl className="facts">
				<div>
					<dt>Owner</dt>
					<dd data-testid="owner">{props.ownerEmail ?? "–"}</dd>
				</div>
			</dl>
			<h2>Shared with</h2>
			<p role="status" className={note?.isError ? "inline-error" : "muted"}>
				{note?.text ?? "\u00a0"}
			</p>
			{status.error && !isUnavailable ? (
				<p className="inline-error" role="alert">
					Cannot load the shares: {errorMessage(status.error)}
				</p>
			) : null}
			{status.data && shares.length === 0 ? <p data-testid="shared-with">Nobody: only you see this run.</p> : null}
			{shares.length > 0 ? (
				<table className="share-table" data-testid="shared-with">
					<caption className="visually-hidden">People and groups this run is shared with</caption>
					<thead>
						<tr>
							<th scope="col">With</th>
							<th scope="col">Permission</th>
							<th scope="col">Until</th>
							<th scope="col">Since</th>
							<th scope="col">Message</th>
							{props.isOwner ? (
								<th scope="col">
									<span className="visually-hidden">Actions</span>
								</th>
							) : null}
						</tr>
					</thead>
					<tbody>
						{shares.map((s) => (
							<tr key={`${s.user_email}\n${s.all_runs}`}>
								<th scope="row">
									{s.group ? `group ${s.group}` : s.user_email}
									{s.all_runs ? <span className="muted"> · all runs of the name</span> : null}
								</th>
								<td>{s.permission}</td>
								<td>{s.valid_until ? formatDateTime(s.valid_until) : "no end"}</td>
								<td>{formatDateTime(s.created_at)}</td>
								<td>{s.message ?? ""}</td>
								{props.isOwner ? (
									<td>
										<button
											type="button"
											className="button-quiet"
											aria-label={`Stop sharing with ${s.group ? `group ${s.group}` : s.user_email}`}
											onClick={() => void unshare(s)}
										>
											Stop sharing
										</button>
									</td>
								) : null}
							</tr>
						))}
					</tbody>
				</table>
			) : null}
			{props.isOwner ? (
				<>
					<h2>Share this run</h2>
					<ShareForm
						runId={props.runId}
						runName={props.runName}
						onShared={(text) => {
							setNote({ text });
							status.reload();
						}}
					/>
				</>
			) : (
				<p className="muted">Only the owner of a run can share it.</p>
			)}
		</div>
	);
}
