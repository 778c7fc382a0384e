/** A timestamp as REANA writes it (reana-commons' WORKFLOW_TIME_FORMAT): UTC, to the second, no zone. */
const reanaForm = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$/;

/**
 * A timestamp in REANA's form, `2026-11-28T12:05:50`, always UTC. reana-client 0.9 parses it with
 * `strptime("%Y-%m-%dT%H:%M:%S")` and 0.95 with `fromisoformat` before subtracting a naive
 * `utcnow()`: a fraction or a zone breaks both.
 */
export function toReanaTime(value: string | Date): string {
	if (typeof value === "string" && reanaForm.test(value)) return value;
	return new Date(value).toISOString().slice(0, 19);
}

/** `toReanaTime` for a timestamp that may be absent. */
export function toReanaTimeOrNull(value: string | Date | null | undefined): string | null {
	return value === null || value === undefined ? null : toReanaTime(value);
}

/** Milliseconds since the epoch of a timestamp the API sent: REANA's zone-less form is UTC; an ISO one keeps its zone. */
export function parseApiTime(value: string): number {
	return Date.parse(reanaForm.test(value) ? `${value}Z` : value);
}
