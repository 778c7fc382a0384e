import type { Generated } from "kysely";

import type { JobStatus, WorkflowStatus } from "../contract/index.js";

export { type JobStatus, jobStatuses, type WorkflowStatus, workflowStatuses } from "../contract/index.js";

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
	/** `personal` (made by the user or an admin) or `login` (made by `orrery login`); 0002_identity. */
	kind: "personal" | "login";
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
	/** The SHA-256 of each workflow file the run read, JSON `{path: sha256}`, recorded when it started. */
	workflow_files: string | null;
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
	/** The job whose results this one reused instead of running (CACHE=on). */
	cached_from: string | null;
}

/** What a finished job changed in its workspace, under the key of what it ran on what (CACHE=on). */
export interface JobCacheTable {
	job_id: string;
	owner_id: string;
	cache_key: string;
	workspace_path: string;
	/** JSON {written: {path: [size, sha256]}, removed: [path]}. */
	changes: string;
	created_at: string;
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
	job_cache: JobCacheTable;
	events: EventTable;
	groups: GroupTable;
	memberships: MembershipTable;
	identities: IdentityTable;
	sessions: SessionTable;
	shares: ShareTable;
	audit_events: AuditEventTable;
	secrets: SecretTable;
	quotas: QuotaTable;
	retention_rules: RetentionRuleTable;
	transfers: TransferTable;
	interactive_sessions: InteractiveSessionTable;
}

/**
 * The interactive session (a Jupyter server) of a run, one at most, as REANA has it: its process on
 * the server's host, the port it answers on, and its token, sealed with the server's key.
 */
export interface InteractiveSessionTable {
	workflow_id: string;
	/** The session's own id: its address is `/sessions/<id>/`. */
	id: string;
	type: string;
	status: "starting" | "running" | "stopped" | "failed";
	/** The host its process runs on (a session is reached, checked and stopped from there only). */
	host: string;
	port: number | null;
	pid: number | null;
	token_sealed: string;
	message: string | null;
	created_at: string;
	updated_at: string;
}

/**
 * One transfer of staging: a file staged into a run's workspace (`in`), or a publication of its outputs
 * to one target (`out`). Rows are written before any byte moves, so a restarted server continues.
 */
export interface TransferTable {
	workflow_id: string;
	direction: "in" | "out";
	seq: number;
	url: string;
	/** The workspace path (`in`), or `""` for a publication. */
	path: string;
	size: number | null;
	sha256: string | null;
	modified: string | null;
	/** The endpoint options of the spec entry (JSON). */
	options: string;
	status: "pending" | "done" | "failed";
	bytes: number;
	message: string | null;
	updated_at: string;
}

/** Groups of users, named by the value of an OIDC group claim (e.g. an eduperson_entitlement URN). */
export interface GroupTable {
	id: string;
	name: string;
	created_at: string;
}

/** Who is in which group: replaced from the ID token's claims at each login. */
export interface MembershipTable {
	user_id: string;
	group_id: string;
	refreshed_at: string;
}

/** A login at an OIDC provider (issuer + subject) and the user it belongs to. */
export interface IdentityTable {
	id: string;
	issuer: string;
	subject: string;
	user_id: string;
	created_at: string;
	last_login_at: string;
}

/** Web UI sessions: only a hash of the cookie value is stored. */
export interface SessionTable {
	id: string;
	hash: string;
	user_id: string;
	created_at: string;
	expires_at: string;
	last_seen_at: string | null;
	revoked_at: string | null;
}

/** Permissions a share grants. */
export const sharePermissions = ["read", "run"] as const;
/** What a share lets its target do: `read` (see) or `run` (also start and restart). */
export type SharePermission = (typeof sharePermissions)[number];

/**
 * A workflow shared with a user or a group: one run (`workflow_id`), or every run of a name of its owner
 * (`workflow_id` null, `workflow_name` set). `scope_key` and `target_key` make "one share per scope and target"
 * a plain unique constraint on both dialects.
 */
export interface ShareTable {
	id: string;
	owner_id: string;
	workflow_id: string | null;
	workflow_name: string;
	target_user_id: string | null;
	target_group_id: string | null;
	scope_key: string;
	target_key: string;
	permission: SharePermission;
	expires_at: string | null;
	message: string | null;
	created_by: string;
	created_at: string;
}

/** The audit log of security events. */
export interface AuditEventTable {
	id: Generated<number>;
	at: string;
	/** login, logout, token_created, token_revoked, share_added, share_removed, permission_denied, auth_failed, rate_limited. */
	type: string;
	actor_id: string | null;
	/** The actor as it was known then (email, or a token prefix for a failed authentication). */
	actor: string | null;
	ip: string | null;
	/** What the event was about (a token prefix, a workflow id, a route). */
	target: string | null;
	message: string;
}
