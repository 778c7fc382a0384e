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
});

/** GET /api/workflows query. */
export const ListWorkflowsQuery = Type.Object({
	type: Type.Optional(Type.String({ description: "REANA's `batch` or `interactive`; Orrery lists batch runs" })),
	search: Type.Optional(Type.String()),
	sort: Type.Optional(Type.Union([Type.Literal("asc"), Type.Literal("desc")])),
	status: Type.Optional(Type.Union([Type.String(), Type.Array(Type.String())])),
	page: Type.Optional(Type.Integer({ minimum: 1, default: 1 })),
	size: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
	verbose: Type.Optional(Type.Boolean()),
	include_progress: Type.Optional(Type.Boolean()),
	include_workspace_size: Type.Optional(Type.Boolean()),
	workflow_id_or_name: Type.Optional(Type.String()),
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

/** Start, stop and delete answer this. */
export const WorkflowSubmissionResponse = Type.Object({
	message: Type.String(),
	status: Type.String(),
	user: Type.String(),
	workflow_id: Type.String(),
	workflow_name: Type.String(),
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

/** One job's entry in the decoded `logs` document. */
export const JobLog = Type.Object({
	workflow_uuid: Type.String(),
	job_name: Type.String(),
	attempt: Type.Integer(),
	compute_backend: Type.String(),
	backend_job_id: Type.String(),
	docker_img: Type.String(),
	image_used: Nullable(Type.Boolean()),
	cmd: Type.String(),
	status: Type.String(),
	exit_code: Nullable(Type.Integer()),
	message: Type.String(),
	logs: Type.String(),
	started_at: Nullable(Type.String()),
	finished_at: Nullable(Type.String()),
});
/** One job's entry in the decoded `logs` document. */
export type JobLog = Static<typeof JobLog>;

/** The document encoded in LogsResponse.logs. */
export const LogsDocument = Type.Object({
	workflow_logs: Type.String(),
	job_logs: Type.Record(Type.String(), JobLog),
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
	created_at: Type.String(),
	started_at: Nullable(Type.String()),
	finished_at: Nullable(Type.String()),
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
	data: Type.String(),
});

/** GET /api/workflows/{w}/events query. */
export const EventsQuery = Type.Object({
	after: Type.Optional(Type.Integer({ minimum: 0 })),
	wait: Type.Optional(
		Type.Integer({ minimum: 0, maximum: 60, description: "seconds to wait for a new event (long poll)" }),
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
