import { workflowStatuses } from "../contract/index.js";

/** Run states with REANA's names, in lifecycle order (from the API contract). */
export const runStatuses = workflowStatuses;

/** A run's or job's state. */
export type RunStatus = (typeof runStatuses)[number];

/** How a state is drawn: a tone (colour family, never the only cue) and a glyph beside its name. */
export interface StateLook {
	tone: "idle" | "waiting" | "running" | "ok" | "failed" | "stopped";
	glyph: string;
}

const looks: Record<string, StateLook> = {
	created: { tone: "idle", glyph: "○" },
	queued: { tone: "waiting", glyph: "◔" },
	pending: { tone: "waiting", glyph: "◔" },
	running: { tone: "running", glyph: "▶" },
	finished: { tone: "ok", glyph: "✓" },
	failed: { tone: "failed", glyph: "✕" },
	stopped: { tone: "stopped", glyph: "■" },
	deleted: { tone: "idle", glyph: "–" },
	// Access tokens share the badges.
	active: { tone: "ok", glyph: "●" },
	expired: { tone: "stopped", glyph: "■" },
	revoked: { tone: "idle", glyph: "✕" },
	// Quota health.
	healthy: { tone: "ok", glyph: "✓" },
	warning: { tone: "stopped", glyph: "!" },
	critical: { tone: "failed", glyph: "✕" },
};

/** The look of a state; unknown states look idle. */
export function stateLook(status: string): StateLook {
	return looks[status] ?? { tone: "idle", glyph: "?" };
}

/** True once nothing will change any more. */
export function isTerminal(status: string): boolean {
	return status === "finished" || status === "failed" || status === "stopped" || status === "deleted";
}

/** True while the scheduler is working on it. */
export function isActive(status: string): boolean {
	return status === "queued" || status === "pending" || status === "running";
}

/** The state of a group of jobs (a step): failure wins, then activity, then completion. */
export function combinedStatus(statuses: readonly string[]): string {
	if (statuses.length === 0) return "created";
	for (const s of ["failed", "running", "queued", "stopped"]) if (statuses.includes(s)) return s;
	if (statuses.every((s) => s === "finished")) return "finished";
	return statuses.includes("finished") ? "running" : "created";
}
