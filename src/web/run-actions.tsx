import { useState } from "react";
import { apiCall, enterSession, errorMessage } from "./api-client.js";
import { navigate } from "./router.js";
import { isActive, isTerminal } from "./run-states.js";

/** Start, stop and delete buttons for one run, offered only when the run's state allows them; its notebook session. */
export function RunActions(props: { runId: string; name: string; status: string; onChanged(): void }) {
	const [isBusy, setBusy] = useState(false);
	const [error, setError] = useState<string>();
	const [isConfirming, setConfirming] = useState(false);
	const [notebook, setNotebook] = useState<string>();
	const params = { workflow_id_or_name: props.runId };

	const act = async (work: () => Promise<unknown>) => {
		setBusy(true);
		setError(undefined);
		try {
			await work();
			props.onChanged();
		} catch (e) {
			setError(errorMessage(e));
		} finally {
			setBusy(false);
		}
	};

	const start = () => act(() => apiCall("start_workflow", { params, body: {} }));
	const stop = () => act(() => apiCall("set_workflow_status", { params, query: { status: "stop" }, body: {} }));
	// The session's address on this server: the browser's login cookie lets it in (interactive-sessions.md).
	const openNotebook = () =>
		act(async () => {
			const res = await apiCall("open_interactive_session", {
				params: { ...params, interactive_session_type: "jupyter" },
				body: {},
			});
			await enterSession(res.path);
			setNotebook(res.path);
		});
	const closeNotebook = () =>
		act(async () => {
			await apiCall("close_interactive_session", { params });
			setNotebook(undefined);
		});
	const remove = () =>
		act(async () => {
			await apiCall("set_workflow_status", { params, query: { status: "deleted" }, body: {} });
			navigate("/runs");
		});

	return (
		<div className="run-actions">
			{props.status === "created" ? (
				<button type="button" className="button" disabled={isBusy} onClick={start}>
					Start
				</button>
			) : null}
			{isActive(props.status) ? (
				<button type="button" className="button button-danger" disabled={isBusy} onClick={stop}>
					Stop
				</button>
			) : null}
			{props.status !== "deleted" && notebook === undefined ? (
				<button type="button" className="button-quiet" disabled={isBusy} onClick={openNotebook}>
					Notebook
				</button>
			) : null}
			{notebook !== undefined ? (
				<span className="notebook">
					<a href={notebook} target="_blank" rel="noopener">
						Open the notebook ↗
					</a>
					<button type="button" className="button-quiet" disabled={isBusy} onClick={closeNotebook}>
						Close notebook
					</button>
				</span>
			) : null}
			{(isTerminal(props.status) || props.status === "created") && props.status !== "deleted" ? (
				isConfirming ? (
					<span className="confirm">
						<span>Delete {props.name} and its workspace?</span>
						<button type="button" className="button button-danger" disabled={isBusy} onClick={remove}>
							Delete
						</button>
						<button type="button" className="button-quiet" onClick={() => setConfirming(false)}>
							Cancel
						</button>
					</span>
				) : (
					<button type="button" className="button-quiet" onClick={() => setConfirming(true)}>
						Delete…
					</button>
				)
			) : null}
			{error ? (
				<span className="inline-error" role="alert">
					{error}
				</span>
			) : null}
		</div>
	);
}
