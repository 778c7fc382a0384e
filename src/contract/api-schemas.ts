import { type Static, type TSchema, Type } from "typebox";

import { errorCodes } from "./errors.js";

const Nullable = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()]);

/** A byte count with its human-readable form, as REANA reports sizes. */
export const Size = Type.Object({ raw: Type.Integer(), human_readable: Type.String() });

/** `{ message }`: the body of most successful commands. */
export const MessageBody = Type.Object({ message: Type.String() });

/** GET /api/ping */
export const PingResponse = Type.Object({ message: Type.String(), status: Type.String() });

const QuotaResourceReport = Type.Object({
	usage: Size,
	limit: Size,
	health: Type.String(),
});

/** GET /api/you */
export const YouResponse = Type.Object({
	id: Type.String(),
	email: Type.String(),
	full_name: Type.String(),
	username: Type.String(),
	role: Type.String(),
	reana_server_version: Type.String(),
	reana_token: Type.Object({ value: Type.String(), status: Type.String(), requested_at: Type.String() }),
	quota: Type.Object({ cpu: QuotaResourceReport, disk: QuotaResourceReport }),
});

const TitledStrings = Type.Object({ title: Type.String(), value: Type.Array(Type.String()) });
const TitledString = Type.Object({ title: Type.String(), value: Type.String() });

/** GET /api/info: what this server can do. */
export const InfoResponse = Type.Object({
	compute_backends: TitledStrings,
	default_workspace: TitledString,
	workspaces_available: TitledStrings,
	supported_workflow_engines: TitledStrings,
	orrery_version: TitledString,
	container_runtime: TitledString,
	maximum_interactive_session_inactivity_period: Type.Object({
		title: Type.String(),
		value: Type.Union([Type.String(), Type.Null()]),
	}),
});

/** A run's progress, REANA's shape. */
export const Progress = Type.Object({
	total: Type.Object({ total: Type.Integer(), job_ids: Type.Array(Type.String()) }),
	running: Type.Object({ total: Type.Integer(), job_ids: Type.Array(Type.String()) }),
	finished: Type.Object({ total: Type.Integer(), job_ids: Type.Array(Type.String()) }),
	failed: Type.Object({ total: Type.Integer(), job_ids: Type.Array(Type.String()) }),
	current_step_name: Nullable(Type.String()),
	current_command: Nullable(Type.String()),
	run_started_at: Nullable(Type.String()),
	run_finished_at: Nullable(Type.String()),
	run_stopped_at: Nullable(Type.String()),
	staging: Type.Optional(
		Type.Object(
			{
				direction: Type.Union([Type.Literal("in"), Type.Literal("out")]),
				files_total: Type.Integer(),
				files_done: Type.Integer(),
				files_skipped: Type.Integer(),
				bytes_total: Type.Integer(),
				bytes_done: Type.Integer(),
			},
			{ description: "Orrery extension: how far staging in (before the first job) or publishing (after success) is" },
		),
	),
});

/** One workflow in a listing. */
export const WorkflowListItem = Type.Object({
	id: Type.String(),
	name: Type.String(),
	status: Type.String(),
	user: Type.String(),
	owner_email: Type.String(),
	created: Type.String(),
	progress: Progress,
	size: Size,
	launcher_url: Nullable(Type.String()),
	shared_with: Type.Array(Type.String()),
	session_type: Type.Optional(Type.String({ description: "the run's interactive session, when it has one open" })),
	session_uri: Type.Optional(Type.String({ description: "its path on the server (REANA's clients add ?token=)" })),
	session_status: Type.Optional(Type.String()),
});

/** GET /api/workflows query. */
export const ListWorkflowsQuery = Type.Object({
	type: Type.Optional(
		Type.String({ description: "REANA's `batch` (every run) or `interactive` (the runs with an open session)" }),
	),
	search: Type.Optional(Type.String()),
	sort: Type.Optional(Type.Union([Type.Literal("asc"), Type.Literal("desc")])),
	status: Type.Optional(Type.Union([Type.String(), Type.Array(Type.String())])),
	page: Type.Optional(Type.Integer({ minimum: 1, default: 1 })),
	size: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
	verbose: Type.Optional(Type.Boolean()),
	include_progress: Type.Optional(Type.Boolean()),
	include_workspace_size: Type.Optional(Type.Boolean()),
	workflow_id_or_name: Type.Optional(Type.String()),
	shared: Type.Optional(Type.Boolean({ description: "also runs others shared with you (REANA)" })),
	shared_by: Type.Optional(Type.String({ description: "only runs this user shared with you (REANA)" })),
	shared_with: Type.Optional(
		Type.String({ description: "only your runs shared with this user (email) or group (`group:NAME`) (REANA)" }),
	),
	shared_with_me: Type.Optional(Type.Boolean({ description: "only runs of others shared with you (Orrery)" })),
});
/** GET /api/workflows query. */
export type ListWorkflowsQuery = Static<typeof ListWorkflowsQuery>;

/** GET /api/workflows */
export const ListWorkflowsResponse = Type.Object({
	items: Type.Array(WorkflowListItem),
	total: Type.Integer(),
	page: Type.Integer(),
	size: Type.Integer(),
	has_next: Type.Boolean(),
	has_prev: Type.Boolean(),
	user_has_workflows: Type.Boolean(),
});

/** POST /api/workflows query. */
export const CreateWorkflowQuery = Type.Object({
	workflow_name: Type.Optional(Type.String()),
	spec: Type.Optional(Type.String()),
});

/** POST /api/workflows (201). */
export const CreateWorkflowResponse = Type.Object({
	message: Type.String(),
	workflow_id: Type.String(),
	workflow_name: Type.String(),
	validation_warnings: Type.Array(Type.Object({ path: Type.String(), message: Type.String(), code: Type.String() })),
});

/** A workflow reference in a path: UUID, NAME, NAME.RUN or NAME.RUN.MINOR. */
export const WorkflowParams = Type.Object({ workflow_id_or_name: Type.String() });

/** GET /api/workflows/{w}/status */
export const WorkflowStatusResponse = Type.Object({
	id: Type.String(),
	name: Type.String(),
	status: Type.String(),
	user: Type.String(),
	created: Type.String(),
	progress: Progress,
	logs: Type.String(),
	message: Type.String(),
	workspace_path: Type.String(),
});

/** Body of a start (POST /start, or PUT /status?status=start). */
export const StartBody = Type.Object({
	input_parameters: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
	operational_options: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
	reana_specification: Type.Optional(Type.Unknown()),
	restart: Type.Optional(Type.Boolean()),
});

/**
 * Start, stop and delete answer this. Stop and delete name the run (`NAME.RUN`); a start, as
 * reana-server's, answers the base name and `run_number` (`2` or `"2.1"`): reana-client's restart
 * joins them into the new run's name.
 */
export const WorkflowSubmissionResponse = Type.Object({
	message: Type.String(),
	status: Type.String(),
	user: Type.String(),
	workflow_id: Type.String(),
	workflow_name: Type.String(),
	run_number: Type.Optional(Type.Union([Type.Integer(), Type.String()])),
});

/** PUT /api/workflows/{w}/status query. */
export const SetStatusQuery = Type.Object({
	status: Type.Union([Type.Literal("start"), Type.Literal("stop"), Type.Literal("deleted")]),
});

/** PUT /api/workflows/{w}/status body. */
export const SetStatusBody = Type.Object({
	all_runs: Type.Optional(Type.Boolean()),
	workspace: Type.Optional(Type.Boolean()),
	input_parameters: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
	operational_options: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
	restart: Type.Optional(Type.Boolean()),
});

/** GET /api/workflows/{w}/logs query. */
export const LogsQuery = Type.Object({
	page: Type.Optional(Type.Integer({ minimum: 1 })),
	size: Type.Optional(Type.Integer({ minimum: 1 })),
	steps: Type.Optional(Type.Union([Type.String(), Type.Array(Type.String())])),
});

/** GET /api/workflows/{w}/logs: `logs` is a JSON-encoded string, as REANA sends it. */
export const LogsResponse = Type.Object({
	workflow_id: Type.String(),
	workflow_name: Type.String(),
	user: Type.String(),
	logs: Type.String(),
	live_logs_enabled: Type.Boolean(),
});

/**
 * One job's entry in the decoded `logs` document: exactly REANA's keys. reana-client prints every
 * key of an entry through a fixed table of titles, so one more key makes `reana-client logs` fail.
 * Timestamps are in REANA's form (`toReanaTime`).
 */
export const JobLog = Type.Object({
	workflow_uuid: Type.String(),
	job_name: Type.String(),
	compute_backend: Type.String(),
	backend_job_id: Type.String(),
	docker_img: Type.String(),
	cmd: Type.String(),
	status: Type.String(),
	logs: Type.String(),
	started_at: Nullable(Type.String()),
	finished_at: Nullable(Type.String()),
});
/** One job's entry in the decoded `logs` document. */
export type JobLog = Static<typeof JobLog>;

/** What Orrery adds about a job in the `logs` document, under the same key as its `job_logs` entry. */
export const JobLogDetail = Type.Object({
	attempt: Type.Integer(),
	image_used: Nullable(Type.Boolean()),
	exit_code: Nullable(Type.Integer()),
	message: Type.String(),
	cached_from: Type.Optional(
		Nullable(Type.String({ description: "the job whose results this one reused instead of running (CACHE=on)" })),
	),
});
/** What Orrery adds about a job in the `logs` document. */
export type JobLogDetail = Static<typeof JobLogDetail>;

/** The document encoded in LogsResponse.logs. */
export const LogsDocument = Type.Object({
	workflow_logs: Type.String(),
	job_logs: Type.Record(Type.String(), JobLog),
	/** Orrery's additions per job (reana-client reads only the keys above). */
	job_details: Type.Record(Type.String(), JobLogDetail),
	engine_specific: Nullable(Type.String()),
	events: Type.Array(
		Type.Object({
			id: Type.Integer(),
			at: Type.String(),
			level: Type.String(),
			type: Type.String(),
			message: Type.String(),
		}),
	),
});
/** The document encoded in LogsResponse.logs. */
export type LogsDocument = Static<typeof LogsDocument>;

/** GET /api/workflows/{w}/specification */
export const SpecificationResponse = Type.Object({
	specification: Type.Record(Type.String(), Type.Unknown()),
	parameters: Type.Record(Type.String(), Type.Unknown()),
});

/** GET /api/workflows/{w}/workspace query. */
export const ListFilesQuery = Type.Object({
	file_name: Type.Optional(Type.String()),
	search: Type.Optional(Type.String()),
	page: Type.Optional(Type.Integer({ minimum: 1 })),
	size: Type.Optional(Type.Integer({ minimum: 1 })),
});

/** GET /api/workflows/{w}/workspace */
export const ListFilesResponse = Type.Object({
	items: Type.Array(Type.Object({ name: Type.String(), size: Size, "last-modified": Type.String() })),
	total: Type.Integer(),
});

/** POST /api/workflows/{w}/workspace query. */
export const UploadQuery = Type.Object({
	file_name: Type.String({ minLength: 1 }),
	preview: Type.Optional(Type.Boolean()),
});

/** A file path inside a workspace, in a URL path (slashes unescaped). */
export const FileParams = Type.Object({ workflow_id_or_name: Type.String(), "*": Type.String() });

/** DELETE /api/workflows/{w}/workspace/{path} */
export const DeleteFilesResponse = Type.Object({
	deleted: Type.Record(Type.String(), Type.Object({ size: Type.Integer() })),
	failed: Type.Record(Type.String(), Type.Object({ error: Type.String() })),
});

/** POST /api/workflows/validate body is a reana.yaml as JSON; the answer lists what is wrong or odd (REANA's shape). */
export const ValidateResponse = Type.Object({
	message: Type.String(),
	valid: Type.Boolean(),
	errors: Type.Array(Type.Object({ code: Type.String(), path: Type.String(), message: Type.String() })),
	warnings: Type.Array(
		Type.Object({ code: Type.String(), path: Type.String(), message: Type.String(), hint: Type.String() }),
	),
});

/** One job of a run, for job tables, DAGs and timelines (Orrery extension). */
export const JobSummary = Type.Object({
	id: Type.String(),
	key: Type.String(),
	step_name: Type.String(),
	attempt: Type.Integer(),
	status: Type.String(),
	compute_backend: Type.String(),
	backend_job_id: Nullable(Type.String()),
	command: Type.String(),
	image: Nullable(Type.String()),
	image_used: Nullable(Type.Boolean()),
	exit_code: Nullable(Type.Integer()),
	message: Nullable(Type.String()),
	cached_from: Type.Optional(
		Nullable(Type.String({ description: "the job whose results this one reused instead of running (CACHE=on)" })),
	),
	created_at: Type.String(),
	started_at: Nullable(Type.String()),
	finished_at: Nullable(Type.String()),
	stdout_bytes: Type.Optional(Type.Integer({ description: "size of the job's stdout (with log_sizes)" })),
	stderr_bytes: Type.Optional(Type.Integer({ description: "size of the job's stderr (with log_sizes)" })),
});

/** GET /api/workflows/{w}/jobs query: only some jobs (by id or state), a page at a time. */
export const JobsQuery = Type.Object({
	ids: Type.Optional(Type.String({ description: "comma-separated job ids" })),
	log_sizes: Type.Optional(
		Type.Boolean({ description: "also report the sizes of each job's stdout and stderr (for followers)" }),
	),
	status: Type.Optional(Type.String({ description: "comma-separated job states" })),
	page: Type.Optional(Type.Integer({ minimum: 1 })),
	size: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000 })),
});

/** GET /api/workflows/{w}/jobs */
export const JobsResponse = Type.Object({ items: Type.Array(JobSummary), total: Type.Integer() });

/** GET /api/workflows/{w}/jobs/{job}/log query: read a log from a byte offset, for following. */
export const JobLogQuery = Type.Object({
	stream: Type.Optional(Type.Union([Type.Literal("stdout"), Type.Literal("stderr")])),
	offset: Type.Optional(Type.Integer({ minimum: 0 })),
	max_bytes: Type.Optional(Type.Integer({ minimum: 1, maximum: 16 * 1024 * 1024 })),
});

/** A chunk of a job log and where the next read starts. */
export const JobLogResponse = Type.Object({
	job_id: Type.String(),
	status: Type.String(),
	stream: Type.String(),
	offset: Type.Integer(),
	next_offset: Type.Integer(),
	/** The stream's size now, so a reader can start near its end. */
	size: Type.Integer(),
	data: Type.String(),
});

/** GET /api/workflows/{w}/events query. */
export const EventsQuery = Type.Object({
	after: Type.Optional(Type.Integer({ minimum: 0 })),
	wait: Type.Optional(
		Type.Integer({ minimum: 0, maximum: 60, description: "seconds to wait for a new event (long poll)" }),
	),
	until: Type.Optional(
		Type.Literal("end", {
			description: "with wait: answer when the run has ended (or the wait is over), not at the first new event",
		}),
	),
});

/** GET /api/workflows/{w}/events: the run's event log after an id. */
export const EventsResponse = Type.Object({
	status: Type.String(),
	progress: Progress,
	items: Type.Array(
		Type.Object({
			id: Type.Integer(),
			at: Type.String(),
			level: Type.String(),
			type: Type.String(),
			message: Type.String(),
			job_id: Nullable(Type.String()),
		}),
	),
});

/** The one error body every endpoint answers with; `message` sits at the top level as REANA's clients expect. */
export const ErrorBody = Type.Object({
	message: Type.String(),
	code: Type.Optional(Type.String({ enum: [...errorCodes] })),
	details: Type.Optional(Type.Unknown()),
	request_id: Type.Optional(Type.String()),
});

/** GET /api/workflows/{w}/outputs: what the engine reported at the end (CWL's output object; null for serial). */
export const OutputsResponse = Type.Object({
	workflow_id: Type.String(),
	status: Type.String(),
	outputs: Type.Unknown(),
});

// ---- Identity: personal access tokens, OIDC login, sharing, audit (issue 7) ----

/** A personal access token as listings show it (never its value). */
export const TokenInfo = Type.Object({
	id: Type.String(),
	name: Type.String(),
	prefix: Type.String(),
	scopes: Type.Array(Type.String()),
	kind: Type.String({ description: "`personal`, or `login` for the token `orrery login` stores" }),
	status: Type.String({ description: "active, expired or revoked" }),
	user_email: Type.String(),
	created_at: Type.String(),
	last_used_at: Nullable(Type.String()),
	expires_at: Nullable(Type.String()),
	revoked_at: Nullable(Type.String()),
});

/** GET /api/tokens query: administrators may list another user's tokens or everyone's. */
export const ListTokensQuery = Type.Object({
	user: Type.Optional(Type.String({ description: "an email (administrators only)" })),
	all: Type.Optional(Type.Boolean({ description: "every user's tokens (administrators only)" })),
});

/** GET /api/tokens */
export const ListTokensResponse = Type.Object({ items: Type.Array(TokenInfo), total: Type.Integer() });

/** POST /api/tokens body. */
export const CreateTokenBody = Type.Object({
	name: Type.String({ minLength: 1, maxLength: 100 }),
	scopes: Type.Optional(
		Type.Array(Type.String(), { description: "read, write, run, admin; default: those of the caller" }),
	),
	expires_in_days: Type.Optional(
		Type.Integer({ minimum: 0, description: "default from the server (90 days); 0: never, where allowed" }),
	),
});

/** POST /api/tokens (201): the value is in this answer and nowhere else, ever. */
export const CreateTokenResponse = Type.Object({
	message: Type.String(),
	access_token: Type.String(),
	token: TokenInfo,
});

/** DELETE /api/tokens/{token_id} params: the token's id or its prefix (`orr_XXXXXXXX`). */
export const TokenParams = Type.Object({ token_id: Type.String() });

/** DELETE /api/tokens/{token_id} */
export const RevokeTokenResponse = Type.Object({ message: Type.String(), token: TokenInfo });

/** GET /api/auth/config: how people log in here. */
export const AuthConfigResponse = Type.Object({
	oidc_enabled: Type.Boolean(),
	issuer: Nullable(Type.String()),
	login_url: Nullable(Type.String()),
	device_login: Type.Boolean(),
	provider_tokens: Type.Boolean({ description: "whether the provider's JWT access tokens are accepted as Bearer" }),
	token_default_days: Type.Integer(),
	token_max_days: Type.Integer({ description: "0: tokens may be made to never expire" }),
});

/** GET /api/auth/login query. */
export const LoginQuery = Type.Object({
	next: Type.Optional(Type.String({ description: "a path on this server to return to after the login" })),
});

/** GET /api/auth/callback query: what the provider sends the browser back with. */
export const LoginCallbackQuery = Type.Object({
	code: Type.Optional(Type.String()),
	state: Type.Optional(Type.String()),
	error: Type.Optional(Type.String()),
	error_description: Type.Optional(Type.String()),
	iss: Type.Optional(Type.String()),
	session_state: Type.Optional(Type.String()),
});

/** POST /api/auth/device: a device login started at the provider (RFC 8628). */
export const DeviceLoginResponse = Type.Object({
	device_code: Type.String(),
	user_code: Type.String(),
	verification_uri: Type.String(),
	verification_uri_complete: Nullable(Type.String()),
	expires_in: Type.Integer(),
	interval: Type.Integer(),
});

/** POST /api/auth/device/token body. */
export const DevicePollBody = Type.Object({
	device_code: Type.String({ minLength: 1 }),
	token_name: Type.Optional(Type.String({ maxLength: 100 })),
});

/** POST /api/auth/device/token: `pending` (poll again after `interval` s) or `complete` with the new token. */
export const DevicePollResponse = Type.Object({
	status: Type.Union([Type.Literal("pending"), Type.Literal("slow_down"), Type.Literal("complete")]),
	interval: Type.Integer(),
	access_token: Type.Optional(Type.String()),
	token: Type.Optional(TokenInfo),
	user: Type.Optional(
		Type.Object({ email: Type.String(), full_name: Type.String(), groups: Type.Array(Type.String()) }),
	),
});

/** POST /api/workflows/{w}/share body: REANA's, plus a group, a permission and all runs of the name. */
export const ShareBody = Type.Object({
	user_email_to_share_with: Type.Optional(Type.String()),
	group: Type.Optional(Type.String({ description: "a group name as the identity provider sends it (Orrery)" })),
	permission: Type.Optional(Type.Union([Type.Literal("read"), Type.Literal("run")], { default: "read" })),
	valid_until: Type.Optional(Type.String({ description: "YYYY-MM-DD (through that day, UTC) or an ISO date-time" })),
	message: Type.Optional(Type.String({ maxLength: 5000 })),
	all_runs: Type.Optional(Type.Boolean({ description: "share every run of this name, also future ones (Orrery)" })),
});

/** POST /api/workflows/{w}/unshare query. */
export const UnshareQuery = Type.Object({
	user_email_to_unshare_with: Type.Optional(Type.String()),
	group: Type.Optional(Type.String()),
	all_runs: Type.Optional(Type.Boolean()),
});

/** Share and unshare answer this. */
export const ShareResponse = Type.Object({
	message: Type.String(),
	workflow_id: Type.String(),
	workflow_name: Type.String(),
});

/** GET /api/workflows/{w}/share-status */
export const ShareStatusResponse = Type.Object({
	workflow_id: Type.String(),
	workflow_name: Type.String(),
	shared_with: Type.Array(
		Type.Object({
			user_email: Type.String({ description: "the user's email, or `group:NAME` for a group" }),
			group: Nullable(Type.String()),
			permission: Type.String(),
			valid_until: Nullable(Type.String()),
			message: Nullable(Type.String()),
			all_runs: Type.Boolean(),
			created_at: Type.String(),
		}),
	),
});

/** GET /api/users/shared-with-you and /api/users/you-shared-with */
export const SharedUsersResponse = Type.Object({
	users: Type.Array(Type.Object({ email: Type.String() })),
	groups: Type.Array(Type.Object({ name: Type.String() })),
});

/** GET /api/you/groups: the caller's groups, as stored at their latest login. */
export const GroupsResponse = Type.Object({ items: Type.Array(Type.Object({ name: Type.String() })) });

/** GET /api/audit query. */
export const AuditQuery = Type.Object({
	type: Type.Optional(Type.Union([Type.String(), Type.Array(Type.String())])),
	after: Type.Optional(Type.Integer({ minimum: 0 })),
	since: Type.Optional(Type.String()),
	limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 10000 })),
});

/** GET /api/audit: security events, newest first. */
export const AuditResponse = Type.Object({
	items: Type.Array(
		Type.Object({
			id: Type.Integer(),
			at: Type.String(),
			type: Type.String(),
			actor: Nullable(Type.String()),
			ip: Nullable(Type.String()),
			target: Nullable(Type.String()),
			message: Type.String(),
		}),
	),
});

/** PUT /api/token (REANA's request_token): tokens are self-service here, so the answer says so. */
export const RequestTokenResponse = Type.Object({
	message: Type.String(),
	reana_token: Type.Object({ status: Type.String(), requested_at: Type.String() }),
});

/** DELETE /api/token body (REANA's delete_token, with the token management secret): exactly one of the two. */
export const ManagedTokenBody = Type.Object({
	user_id: Type.Optional(Type.String()),
	email: Type.Optional(Type.String()),
});

/** DELETE /api/token */
export const ManagedTokenResponse = Type.Object({
	message: Type.String(),
	email: Type.String(),
	id_: Type.String(),
	reana_token: Type.Object({ status: Type.String() }),
	status: Type.Integer(),
});

/** POST /api/workflows/{w}/session-ticket: where a browser enters the run's session, once, within `expires_in` seconds. */
export const SessionTicketResponse = Type.Object({
	url: Type.String({
		description:
			"the session's entry address with a single-use ticket: on ORRERY_SESSIONS_URL when set, else on the server's own origin (a path when ORRERY_PUBLIC_URL is not set)",
	}),
	expires_in: Type.Integer({ description: "seconds the ticket is good for" }),
});
/** POST /api/workflows/{w}/session-ticket */
export type SessionTicketResponse = Static<typeof SessionTicketResponse>;
