import { type MouseEvent, useCallback, useEffect, useRef, useState } from "react";
import { apiCall, errorMessage } from "./api-client.js";
import { navigate } from "./router.js";
import { isActive, isTerminal } from "./run-states.js";

/** Start, stop and delete buttons for one run, offered only when the run's state allows them; its notebook session. */
export function RunActions(props: { runId: string; name: string; status: string; onChanged(): void }) {
	const [isBusy, setBusy] = useState(false);
	const [error, setError] = useState<string>();
	const [isConfirming, setConfirming] = useState(false);
	const [hasNotebook, setHasNotebook] = useState(false);
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
	// Opens (or finds) the run's Jupyter session; the link below enters it (interactive-sessions.md).
	const openNotebook = () =>
		act(async () => {
			await apiCall("open_interactive_session", {
				params: { ...params, interactive_session_type: "jupyter" },
				body: {},
			});
			setHasNotebook(true);
		});
	const closeNotebook = () =>
		act(async () => {
			await apiCall("close_interactive_session", { params });
			setHasNotebook(false);
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
			{props.status !== "deleted" && !hasNotebook ? (
				<button type="button" className="button-quiet" disabled={isBusy} onClick={openNotebook}>
					Notebook
				</button>
			) : null}
			{hasNotebook ? (
				<span className="notebook">
					<NotebookLink runId={props.runId} onError={setError} />
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

/** A ticket's entry link, and when it stops being good (ms, this page's clock, with a margin). */
interface Entry {
	url: string;
	goodUntil: number;
}

/**
 * The link into the run's notebook: an entry link with a single-use ticket that lasts a minute, so the
 * token of this page never leaves it (the session may be served at an origin of its own). The link holds
 * a fresh ticket; a click spends it and the next one is made. A click on a stale one makes a new one and
 * opens it in a new tab. `noopener`: the notebook's page gets no handle on this one.
 */
function NotebookLink(props: { runId: string; onError(message: string): void }) {
	const { runId, onError } = props;
	const [entry, setEntry] = useState<Entry>();
	const current = useRef<Entry | undefined>(undefined);
	const makeEntry = useCallback(async (): Promise<Entry> => {
		const res = await apiCall("create_session_ticket", { params: { workflow_id_or_name: runId } });
		const made = {
			url: new URL(res.url, window.location.href).href,
			goodUntil: Date.now() + Math.max(0, res.expires_in - 15) * 1000,
		};
		current.current = made;
		setEntry(made);
		return made;
	}, [runId]);
	const renew = useCallback(() => {
		current.current = undefined;
		makeEntry().catch((e: unknown) => onError(errorMessage(e)));
	}, [makeEntry, onError]);
	useEffect(renew, [renew]);
	const follow = (event: MouseEvent<HTMLAnchorElement>) => {
		const fresh = current.current;
		if (fresh && Date.now() < fresh.goodUntil) {
			// The browser follows it; its ticket is spent.
			setTimeout(renew, 0);
			return;
		}
		event.preventDefault();
		makeEntry()
			.then((made) => {
				window.open(made.url, "_blank", "noopener,noreferrer");
				renew();
			})
			.catch((e: unknown) => onError(errorMessage(e)));
	};
	return (
		<a
			href={entry?.url ?? "#"}
			target="_blank"
			rel="noopener noreferrer"
			onClick={follow}
			onAuxClick={() => setTimeout(renew, 0)}
		>
			Open the notebook ↗
		</a>
	);
}
