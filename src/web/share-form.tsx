import { type FormEvent, useId, useState } from "react";
import { apiCall, errorMessage } from "./api-client.js";

/** Shares a run with a person (email) or a group, read-only or with run rights, optionally until a date. */
export function ShareForm(props: { runId: string; runName: string; onShared(message: string): void }) {
	const [kind, setKind] = useState<"user" | "group">("user");
	const [who, setWho] = useState("");
	const [permission, setPermission] = useState<"read" | "run">("read");
	const [until, setUntil] = useState("");
	const [message, setMessage] = useState("");
	const [allRuns, setAllRuns] = useState(false);
	const [error, setError] = useState<string>();
	const [isBusy, setBusy] = useState(false);
	const ids = { kind: useId(), who: useId(), permission: useId(), until: useId(), message: useId(), all: useId() };
	const name = props.runName.replace(/\.\d+(\.\d+)?$/, "");

	const submit = async (event: FormEvent) => {
		event.preventDefault();
		if (!who.trim()) return setError(kind === "user" ? "Enter the person's email." : "Enter the group's name.");
		setBusy(true);
		setError(undefined);
		try {
			const res = await apiCall("share_workflow", {
				params: { workflow_id_or_name: props.runId },
				body: {
					...(kind === "user" ? { user_email_to_share_with: who.trim() } : { group: who.trim() }),
					permission,
					...(until ? { valid_until: until } : {}),
					...(message.trim() ? { message: message.trim() } : {}),
					...(allRuns ? { all_runs: true } : {}),
				},
			});
			setWho("");
			setMessage("");
			props.onShared(res.message);
		} catch (e) {
			setError(errorMessage(e));
		} finally {
			setBusy(false);
		}
	};

	return (
		<form className="form-grid share-form" onSubmit={(e) => void submit(e)} noValidate>
			<div className="field">
				<label htmlFor={ids.kind}>Share with</label>
				<select id={ids.kind} value={kind} onChange={(e) => setKind(e.target.value as "user" | "group")}>
					<option value="user">a person</option>
					<option value="group">a group</option>
				</select>
			</div>
			<div className="field">
				<label htmlFor={ids.who}>{kind === "user" ? "Email" : "Group name"}</label>
				<input
					id={ids.who}
					type={kind === "user" ? "email" : "text"}
					value={who}
					autoComplete="off"
					onChange={(e) => setWho(e.target.value)}
				/>
			</div>
			<div className="field">
				<label htmlFor={ids.permission}>Permission</label>
				<select
					id={ids.permission}
					value={permission}
					onChange={(e) => setPermission(e.target.value as "read" | "run")}
				>
					<option value="read">read: see the run, its logs and files</option>
					<option value="run">run: also start and stop it</option>
				</select>
			</div>
			<div className="field">
				<label htmlFor={ids.until}>Until (optional)</label>
				<input id={ids.until} type="date" value={until} onChange={(e) => setUntil(e.target.value)} />
			</div>
			<div className="field field-wide">
				<label htmlFor={ids.message}>Message (optional)</label>
				<input id={ids.message} value={message} maxLength={5000} onChange={(e) => setMessage(e.target.value)} />
			</div>
			<p className="field-inline field-wide">
				<input id={ids.all} type="checkbox" checked={allRuns} onChange={(e) => setAllRuns(e.target.checked)} />
				<label htmlFor={ids.all}>Every run named {name}, also future ones</label>
			</p>
			{error ? (
				<p className="form-error field-wide" role="alert">
					{error}
				</p>
			) : null}
			<div>
				<button type="submit" className="button" disabled={isBusy}>
					{isBusy ? "Sharing…" : "Share"}
				</button>
			</div>
		</form>
	);
}
