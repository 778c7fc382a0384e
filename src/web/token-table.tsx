import { useState } from "react";
import { apiCall, type CallOutput, errorMessage } from "./api-client.js";
import { formatDateTime, formatRelative } from "./format-time.js";
import { StatusBadge } from "./status-badge.js";

/** A token as listings show it. */
export type TokenItem = CallOutput<"list_tokens">["items"][number];

/** Tokens with their scopes, use and expiry, each revocable after a confirmation. */
export function TokenTable(props: {
	tokens: readonly TokenItem[];
	/** The prefix of the token this tab signed in with, to warn before revoking it. */
	currentPrefix: string | undefined;
	showOwner: boolean;
	onRevoked(): void;
}) {
	const [confirming, setConfirming] = useState<string>();
	const [busy, setBusy] = useState<string>();
	const [result, setResult] = useState<{ text: string; isError?: boolean }>();

	const revoke = async (token: TokenItem) => {
		setBusy(token.id);
		try {
			const res = await apiCall("revoke_token", { params: { token_id: token.id } });
			setResult({ text: res.message });
			setConfirming(undefined);
			props.onRevoked();
		} catch (e) {
			setResult({ text: errorMessage(e), isError: true });
		} finally {
			setBusy(undefined);
		}
	};

	return (
		<>
			<p role="status" className={result?.isError ? "inline-error" : "muted"}>
				{result?.text ?? "\u00a0"}
			</p>
			{props.tokens.length === 0 ? (
				<p className="muted">No tokens yet.</p>
			) : (
				<div className="table-scroll">
					<table className="token-table" data-testid="token-table">
						<caption className="visually-hidden">Access tokens</caption>
						<thead>
							<tr>
								<th scope="col">Name</th>
								{props.showOwner ? <th scope="col">User</th> : null}
								<th scope="col">Token</th>
								<th scope="col">Scopes</th>
								<th scope="col">State</th>
								<th scope="col">Created</th>
								<th scope="col">Last used</th>
								<th scope="col">Expires</th>
								<th scope="col">
									<span className="visually-hidden">Actions</span>
								</th>
							</tr>
						</thead>
						<tbody>
							{props.tokens.map((t) => {
								const isCurrent = props.currentPrefix !== undefined && t.prefix === props.currentPrefix;
								return (
									<tr key={t.id} data-token={t.prefix}>
										<th scope="row">
											{t.name}
											{t.kind === "login" ? <span className="muted"> (login)</span> : null}
											{isCurrent ? <span className="muted"> · this session</span> : null}
										</th>
										{props.showOwner ? <td>{t.user_email}</td> : null}
										<td>
											<code>{t.prefix}…</code>
										</td>
										<td>{t.scopes.join(", ")}</td>
										<td>
											<StatusBadge status={t.status} />
										</td>
										<td title={formatDateTime(t.created_at)}>{formatRelative(t.created_at)}</td>
										<td title={formatDateTime(t.last_used_at)}>
											{t.last_used_at ? formatRelative(t.last_used_at) : "never"}
										</td>
										<td title={formatDateTime(t.expires_at)}>
											{t.expires_at ? formatRelative(t.expires_at) : "never"}
										</td>
										<td>
											{t.status !== "active" ? null : confirming === t.id ? (
												<span className="confirm">
													<span>{isCurrent ? "This signs you out. Revoke?" : "Revoke?"}</span>
													<button
														type="button"
														className="button button-danger"
														disabled={busy === t.id}
														onClick={() => void revoke(t)}
													>
														Revoke
													</button>
													<button type="button" className="button-quiet" onClick={() => setConfirming(undefined)}>
														Cancel
													</button>
												</span>
											) : (
												<button
													type="button"
													className="button-quiet"
													aria-label={`Revoke ${t.name} (${t.prefix}…)`}
													onClick={() => setConfirming(t.id)}
												>
													Revoke…
												</button>
											)}
										</td>
									</tr>
								);
							})}
						</tbody>
					</table>
				</div>
			)}
		</>
	);
}
