import { type AnchorHTMLAttributes, type MouseEvent, useSyncExternalStore } from "react";

const changeEvent = "orrery:navigate";

function subscribe(onChange: () => void): () => void {
	window.addEventListener("popstate", onChange);
	window.addEventListener(changeEvent, onChange);
	return () => {
		window.removeEventListener("popstate", onChange);
		window.removeEventListener(changeEvent, onChange);
	};
}

const snapshot = () => window.location.pathname + window.location.search;

/** The current path and query string; re-renders on navigation. */
export function useLocation(): { pathname: string; query: URLSearchParams } {
	const href = useSyncExternalStore(subscribe, snapshot);
	const url = new URL(href, window.location.origin);
	return { pathname: url.pathname, query: url.searchParams };
}

/** Goes to another page of the UI without reloading (replace: no new history entry). */
export function navigate(to: string, options: { replace?: boolean } = {}): void {
	if (to === snapshot()) return;
	if (options.replace) window.history.replaceState(null, "", to);
	else window.history.pushState(null, "", to);
	window.dispatchEvent(new Event(changeEvent));
}

/** The current URL with some query parameters changed (empty string or undefined removes one). */
export function withQuery(patch: Record<string, string | number | undefined>): string {
	const url = new URL(window.location.href);
	for (const [k, v] of Object.entries(patch)) {
		if (v === undefined || v === "") url.searchParams.delete(k);
		else url.searchParams.set(k, String(v));
	}
	const qs = url.searchParams.toString();
	return url.pathname + (qs ? `?${qs}` : "");
}

/** A link inside the UI: a real `<a href>` (so it opens in a new tab too) that navigates in place. */
export function Link(props: AnchorHTMLAttributes<HTMLAnchorElement> & { href: string; replace?: boolean }) {
	const { replace, onClick, href, ...rest } = props;
	const follow = (event: MouseEvent<HTMLAnchorElement>) => {
		onClick?.(event);
		if (event.defaultPrevented || event.button !== 0) return;
		if (event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
		event.preventDefault();
		navigate(href, replace ? { replace } : {});
	};
	return <a href={href} {...rest} onClick={follow} />;
}

/** Matches a path against a pattern like `/runs/:ref`; returns the decoded parameters or null. */
export function matchPath(pattern: string, pathname: string): Record<string, string> | null {
	const want = pattern.split("/").filter(Boolean);
	const have = pathname.split("/").filter(Boolean);
	if (want.length !== have.length) return null;
	const params: Record<string, string> = {};
	for (let i = 0; i < want.length; i++) {
		const w = want[i] as string;
		const h = have[i] as string;
		if (w.startsWith(":")) {
			try {
				params[w.slice(1)] = decodeURIComponent(h);
			} catch {
				return null;
			}
		} else if (w !== h) return null;
	}
	return params;
}
