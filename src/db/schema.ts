import type { Generated } from "kysely";

/** Workflow states, with REANA's names. */
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
/** A workflow's lifecycle state. */
export type WorkflowStatus = (typeof workflowStatuses)[number];

/** Job states; `created` means persisted but not yet accepted by a backend. */
export const jobStatuses = ["created", "queued", "running", "finished", "failed", "stopped"] as const;
/** A job's lifecycle state. */
export type JobStatus = (typeof jobStatuses)[number];

/** Users (people and service accounts). */
export interface UserTable {
	id: string;
	email: string;
	full_name: string | null;
	role: "user" | "admin";
	created_at: string;
}

/** Access tokens: only a hash is stored; the prefix is for recognising a token in lists. */
export interface TokenTable {
	id: string;
	user_id: string;
	name: string;
	prefix: string;
	hash: string;
	scopes: string;
	created_at: string;
	expires_at: string | null;
	last_used_at: string | null;
	revoked_at: string | null;
}

/** Workflow runs: one row per `NAME.RUN[.MINOR]`. */
export interface WorkflowTable {
	id: string;
	name: string;
	run_number: number;
	run_minor: number;
	owner_id: string;
	type: string;
	status: WorkflowStatus;
	status_message: string | null;
	spec: string;
	parameters: string;
	options: string;
	workspace_path: string;
	progress: string | null;
	/** What the engine reported when the run finished (CWL's output object), JSON. */
	outputs: string | null;
	created_at: string;
	updated_at: string;
	started_at: string | null;
	finished_at: string | null;
	stop_requested_at: string | null;
	/** The run this one restarts (NAME.RUN.MINOR shares its workspace). */
	restart_of: string | null;
	/** Bytes in the workspace when the run last ended. */
	disk_bytes: number | null;
	lease_owner: string | null;
	lease_expires_at: string | null;
}

/** Jobs: one command of one step (serial) or one tool invocation (CWL), per attempt. */
export interface JobTable {
	id: string;
	workflow_id: string;
	key: string;
	seq: number;
	attempt: number;
	step_name: string;
	backend: string;
	backend_ref: string | null;
	command: string;
	image: string | null;
	image_used: number | null;
	resources: string;
	job_dir: string;
	status: JobStatus;
	exit_code: number | null;
	message: string | null;
	outputs: string | null;
	created_at: string;
	submitted_at: string | null;
	started_at: string | null;
	finished_at: string | null;
}

/** The per-workflow event log: every state change, in order. */
export interface EventTable {
	id: Generated<number>;
	workflow_id: string;
	job_id: string | null;
	at: string;
	level: "info" | "warning" | "error";
	type: string;
	message: string;
}

/** A user's secret: the value is encrypted (AES-256-GCM) with the server's key, never returned. */
export interface SecretTable {
	user_id: string;
	name: string;
	type: "env" | "file";
	value: string;
	created_at: string;
	updated_at: string;
}

/** Resources that have quotas: CPU (workflow wall time, ms) and disk (workspace bytes). */
export const quotaResources = ["cpu", "disk"] as const;
/** A resource with a quota. */
export type QuotaResource = (typeof quotaResources)[number];

/** A user's limit and usage of one resource; a limit of 0 means unlimited. */
export interface QuotaTable {
	user_id: string;
	resource: QuotaResource;
	limit_raw: number;
	usage_raw: number;
	updated_at: string;
}

/** One `workspace.retention_days` rule of a run: files matching `pattern` go `retention_days` after it ends. */
export interface RetentionRuleTable {
	id: string;
	workflow_id: string;
	pattern: string;
	retention_days: number;
	apply_on: string | null;
	status: "created" | "active" | "applied" | "inactive";
}

/** The whole database as Kysely sees it. */
export interface Database {
	users: UserTable;
	tokens: TokenTable;
	workflows: WorkflowTable;
	jobs: JobTable;
	events: EventTable;
	secrets: SecretTable;
	quotas: QuotaTable;
	retention_rules: RetentionRuleTable;
}
