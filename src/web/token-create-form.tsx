import { type FormEvent, useId, useState } from "react";
import { apiCall, type CallOutput, errorMessage } from "./api-client.js";

const scopeHelp: Record<string, string> = {
	read: "see runs, logs and files",
	write: "create runs, upload and delete files",
	run: "start and stop runs",
	admin: "administer users and tokens",
};

/** Expiry choices in days (0: never), limited by what the server allows. */
function expiryChoices(defaultDays: number, maxDays: number): number[] {
	const days = [...new Set([7, 30, defaultDays, 90, 365])].filter((d) => maxDays === 0 || d <= maxDays);
	return [...days.sort((a, b) => a - b), ...(maxDays === 0 ? [0] : [])];
}

/** Creates a personal access token with a name, scopes and an expiry, and shows its value once. */
export function TokenCreateForm(props: {
	isAdmin: boolean;
	config: CallOutput<"auth_config"> | undefined;
	onCreated(): void;
}) {
	const defaultDays = props.config?.token_default_days ?? 90;
	const maxDays = props.config?.token_max_days ?? 365;
	const [name, setName] = useState("");
	const [scopes, setScopes] = useState<string[]>(["read", "write", "run"]);
	const [days, setDays] = useState(String(defaultDays));
	const [error, setError] = useState<string>();
	const [created, setCreated] = useState<CallOutput<"create_token">>();
	const [isBusy, setBusy] = useState(false);
	const [copied, setCopied] = useState(false);
	const nameId = useId();
	const daysId = useId();
	const valueId = useId();
	const available = props.isAdmin ? ["read", "write", "run", "admin"] : ["read", "write", "run"];

	const submit = async (event: FormEvent) => {
		event.preventDefault();
		if (!name.trim()) return setError("Give the token a name, so you recognise it later.");
		if (scopes.length === 0) return setError("Choose at least one scope.");
		setBusy(true);
		setError(undefined);
		try {
			const res = await apiCall("create_token", {
				body: { name: name.trim(), scopes, expires_in_days: Number(days) },
			});
			setCreated(res);
			setCopied(false);
			setName("");
			props.onCreated();
		} catch (e) {
			setError(errorMessage(e));
		} finally {
			setBusy(false);
		}
	};

	const copy = async () => {
		if (!created) return;
		await navigator.clipboard.writeText(created.access_token).then(
			() => setCopied(true),
			() => setCopied(false),
		);
	};

	return (
		<div className="token-create">
			{created ? (
				<section className="new-token" aria-labelledby={valueId} data-testid="new-token">
					<h3 id={valueId}>Your new token “{created.token.name}”</h3>
					<p role="alert">Copy it now: it is shown only this once, and the server keeps no copy.</p>
					<div className="new-token-value">
						<input
							readOnly
							value={created.access_token}
							aria-label="The new token"
							onFocus={(e) => e.target.select()}
						/>
						<button type="button" className="button" onClick={() => void copy()}>
							{copied ? "Copied" : "Copy"}
						</button>
						<button type="button" className="button-quiet" onClick={() => setCreated(undefined)}>
							Done
						</button>
					</div>
				</section>
			) : null}
			<form onSubmit={(e) => void submit(e)} className="form-grid" noValidate>
				<div className="field">
					<label htmlFor={nameId}>Name</label>
					<input
						id={nameId}
						value={name}
						maxLength={100}
						placeholder="laptop, CI pipeline, …"
						onChange={(e) => setName(e.target.value)}
					/>
				</div>
				<fieldset className="field checks">
					<legend>Scopes</legend>
					{available.map((s) => (
						<label key={s}>
							<input
								type="checkbox"
								checked={scopes.includes(s)}
								onChange={(e) => setScopes((old) => (e.target.checked ? [...old, s] : old.filter((x) => x !== s)))}
							/>
							{s} <span className="muted">({scopeHelp[s]})</span>
						</label>
					))}
				</fieldset>
				<div className="field">
					<label htmlFor={daysId}>Expires after</label>
					<select id={daysId} value={days} onChange={(e) => setDays(e.target.value)}>
						{expiryChoices(defaultDays, maxDays).map((d) => (
							<option key={d} value={d}>
								{d === 0 ? "never" : `${d} days`}
							</option>
						))}
					</select>
				</div>
				{error ? (
					<p className="form-error" role="alert">
						{error}
					</p>
				) : null}
				<div>
					<button type="submit" className="button" disabled={isBusy}>
						{isBusy ? "Creating…" : "Create token"}
					</button>
				</div>
			</form>
		</div>
	);
}
