import { useId, useState } from "react";
import { ApiError, apiCall, errorMessage } from "./api-client.js";
import { formatDateTime } from "./format-time.js";
import { useSession } from "./session-provider.js";
import { TokenCreateForm } from "./token-create-form.js";
import { TokenTable } from "./token-table.js";
import { UnavailableNotice } from "./unavailable-notice.js";
import { usePageTitle } from "./use-page-title.js";
import { useResource } from "./use-resource.js";

/** The token in use, and personal access tokens: create (value shown once), list, revoke. */
export function TokensPage() {
	usePageTitle("Access tokens");
	const { user } = useSession();
	const isAdmin = user?.role === "admin";
	const [showAll, setShowAll] = useState(false);
	const allId = useId();
	const tokens = useResource(`tokens\n${showAll}`, (signal) =>
		apiCall("list_tokens", { query: { all: showAll || undefined }, signal }),
	);
	const config = useResource("auth-config", (signal) => apiCall("auth_config", { signal }));
	const isUnavailable = tokens.error instanceof ApiError && tokens.error.isUnavailable;
	const currentPrefix = user?.reana_token.value.replace(/…$/, "") || undefined;

	return (
		<section className="tokens-page">
			<h1>Access tokens</h1>
			<h2>This session</h2>
			<dl className="facts" data-testid="current-token">
				<div>
					<dt>Signed in as</dt>
					<dd>{user?.email ?? "…"}</dd>
				</div>
				<div>
					<dt>Token</dt>
					<dd>
						<code>{user?.reana_token.value || "–"}</code>
					</dd>
				</div>
				<div>
					<dt>State</dt>
					<dd>{user?.reana_token.status ?? "…"}</dd>
				</div>
				<div>
					<dt>Issued</dt>
					<dd>{formatDateTime(user?.reana_token.requested_at)}</dd>
				</div>
			</dl>
			<p className="hint">
				Only the start of a token is ever shown again: the server keeps a hash, not the token. The full value stays in
				this browser tab until you sign out or close it.
			</p>
			{isUnavailable ? (
				<UnavailableNotice title="Creating and revoking tokens">
					<p>An administrator manages tokens on the server meanwhile:</p>
					<pre className="command">
						{"orrery admin token-grant --email you@example.org --scopes read,run --expires-in-days 30\n"}
						{"orrery admin token-revoke orr_abc123"}
					</pre>
				</UnavailableNotice>
			) : (
				<>
					<h2>New token</h2>
					<TokenCreateForm isAdmin={isAdmin} config={config.data} onCreated={tokens.reload} />
					<h2>{showAll ? "Everyone's tokens" : "Your tokens"}</h2>
					{isAdmin ? (
						<p className="field-inline">
							<input id={allId} type="checkbox" checked={showAll} onChange={(e) => setShowAll(e.target.checked)} />
							<label htmlFor={allId}>Show every user's tokens (administrators)</label>
						</p>
					) : null}
					{tokens.error ? (
						<p className="inline-error" role="alert">
							Cannot list tokens: {errorMessage(tokens.error)}
						</p>
					) : null}
					{tokens.data ? (
						<TokenTable
							tokens={tokens.data.items}
							currentPrefix={currentPrefix}
							showOwner={showAll}
							onRevoked={tokens.reload}
						/>
					) : tokens.error ? null : (
						<p className="muted">Loading tokens…</p>
					)}
				</>
			)}
		</section>
	);
}
