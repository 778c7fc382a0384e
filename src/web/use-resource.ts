import { useCallback, useEffect, useRef, useState } from "react";
import { isAbort } from "./api-client.js";

/** Data loaded from the API. The last good value stays while a new one loads, so nothing flickers or jumps. */
export interface Resource<T> {
	data: T | undefined;
	/** The error of the last attempt (the data, if any, is then the previous good value). */
	error: unknown;
	isLoading: boolean;
	/** True while `data` belongs to an earlier key (filters changed, answer pending). */
	isStale: boolean;
	/** When `data` arrived (ms since the epoch). */
	updatedAt: number | undefined;
	reload(): void;
}

interface State<T> {
	data?: T;
	dataKey?: string;
	error?: unknown;
	isLoading: boolean;
	updatedAt?: number;
}

/** How long to wait before refreshing, given the latest data; undefined stops refreshing. */
export type RefreshPolicy<T> = number | ((data: T | undefined) => number | undefined);

/**
 * Loads `key`'s data with `load`, again whenever `key` changes, and every `refresh` ms while the page is
 * visible. A `null` key loads nothing. `load` gets an AbortSignal that fires when the key changes.
 */
export function useResource<T>(
	key: string | null,
	load: (signal: AbortSignal) => Promise<T>,
	refresh?: RefreshPolicy<T>,
): Resource<T> {
	const loadRef = useRef(load);
	const refreshRef = useRef(refresh);
	loadRef.current = load;
	refreshRef.current = refresh;
	const [state, setState] = useState<State<T>>({ isLoading: key !== null });
	const [generation, setGeneration] = useState(0);

	// biome-ignore lint/correctness/useExhaustiveDependencies: `generation` changes only to ask for a reload
	useEffect(() => {
		if (key === null) return;
		const controller = new AbortController();
		let timer: ReturnType<typeof setTimeout> | undefined;
		let latest: T | undefined;
		const whenVisible = (run: () => void) => {
			if (document.visibilityState === "visible") return run();
			const onShow = () => {
				if (document.visibilityState !== "visible") return;
				document.removeEventListener("visibilitychange", onShow);
				run();
			};
			document.addEventListener("visibilitychange", onShow);
			controller.signal.addEventListener("abort", () => document.removeEventListener("visibilitychange", onShow));
		};
		const schedule = () => {
			const policy = refreshRef.current;
			const ms = typeof policy === "function" ? policy(latest) : policy;
			if (ms !== undefined && !controller.signal.aborted)
				timer = setTimeout(() => whenVisible(() => void attempt()), ms);
		};
		const attempt = async () => {
			setState((s) => (s.isLoading ? s : { ...s, isLoading: true }));
			try {
				const data = await loadRef.current(controller.signal);
				if (controller.signal.aborted) return;
				latest = data;
				setState({ data, dataKey: key, isLoading: false, updatedAt: Date.now() });
			} catch (error) {
				if (controller.signal.aborted || isAbort(error)) return;
				setState((s) => ({ ...s, error, isLoading: false }));
			}
			schedule();
		};
		void attempt();
		return () => {
			controller.abort();
			if (timer) clearTimeout(timer);
		};
	}, [key, generation]);

	const reload = useCallback(() => setGeneration((g) => g + 1), []);
	return {
		data: state.data,
		error: state.error,
		isLoading: state.isLoading,
		isStale: state.data !== undefined && state.dataKey !== key,
		updatedAt: state.updatedAt,
		reload,
	};
}
