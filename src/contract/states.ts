/** Run states, with REANA's names, in lifecycle order. */
export const workflowStatuses = [
	"created",
	"queued",
	"pending",
	"running",
	"finished",
	"failed",
	"stopped",
	"deleted",
] as const;
/** A run's lifecycle state. */
export type WorkflowStatus = (typeof workflowStatuses)[number];
/** The states a run does not leave by itself (a restart makes a new run). */
export const endedRunStatuses: readonly WorkflowStatus[] = ["finished", "failed", "stopped", "deleted"];

/** Job states; `created` means persisted but not yet accepted by a backend. */
export const jobStatuses = ["created", "queued", "running", "finished", "failed", "stopped"] as const;
/** A job's lifecycle state. */
export type JobStatus = (typeof jobStatuses)[number];
