import { parseApiTime } from "../contract/index.js";

/** A duration as people read it: `850 ms`, `42 s`, `3 min 05 s`, `2 h 07 min`, `3 d 4 h`. */
export function formatDuration(ms: number): string {
	if (!Number.isFinite(ms) || ms < 0) return "–";
	if (ms < 1000) return `${Math.round(ms)} ms`;
	const s = Math.floor(ms / 1000);
	if (s < 60) return `${s} s`;
	const m = Math.floor(s / 60);
	if (m < 60) return `${m} min ${String(s % 60).padStart(2, "0")} s`;
	const h = Math.floor(m / 60);
	if (h < 48) return `${h} h ${String(m % 60).padStart(2, "0")} min`;
	return `${Math.floor(h / 24)} d ${h % 24} h`;
}

/** The time between two API timestamps; a missing end means "until now". Undefined when it has not started. */
export function elapsed(start: string | null | undefined, end: string | null | undefined, now = Date.now()) {
	if (!start) return undefined;
	const from = parseApiTime(start);
	const to = end ? parseApiTime(end) : now;
	return Number.isNaN(from) || Number.isNaN(to) ? undefined : Math.max(0, to - from);
}

const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "medium" });
const timeOnly = new Intl.DateTimeFormat(undefined, { timeStyle: "medium" });

/** A timestamp in the reader's locale and time zone (REANA's zone-less form is UTC); "–" when absent. */
export function formatDateTime(iso: string | null | undefined): string {
	if (!iso) return "–";
	const t = parseApiTime(iso);
	return Number.isNaN(t) ? iso : dateTime.format(t);
}

/** The time of day only (for timeline axes and log lines). */
export function formatTimeOfDay(ms: number): string {
	return timeOnly.format(ms);
}

const relative = new Intl.RelativeTimeFormat(undefined, { numeric: "auto" });

/** How long ago: `5 minutes ago`, `yesterday`. */
export function formatRelative(iso: string | null | undefined, now = Date.now()): string {
	if (!iso) return "–";
	const t = parseApiTime(iso);
	if (Number.isNaN(t)) return iso;
	const s = Math.round((t - now) / 1000);
	const units: [limit: number, unit: Intl.RelativeTimeFormatUnit, seconds: number][] = [
		[60, "second", 1],
		[3600, "minute", 60],
		[86400, "hour", 3600],
		[86400 * 30, "day", 86400],
		[86400 * 365, "month", 86400 * 30],
		[Number.POSITIVE_INFINITY, "year", 86400 * 365],
	];
	const [, unit, div] = units.find(([limit]) => Math.abs(s) < limit) ?? [0, "year", 86400 * 365];
	return relative.format(Math.round(s / div), unit);
}
