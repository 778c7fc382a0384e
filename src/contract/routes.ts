import { type TSchema, Type } from "typebox";
import * as S from "./api-schemas.js";
import { endpoints, type OperationId } from "./endpoints.js";
import * as R from "./reana-schemas.js";

/** One route of the HTTP API: the server implements it, the CLI calls it, the OpenAPI document describes it. */
export interface RouteContract {
	method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
	url: string;
	summary: string;
	/**
	 * What a caller needs: `public` (nothing), or the action a token's scope must allow. The route
	 * kit checks authentication and scope before the handler runs; handlers check the resource.
	 */
	permission: RoutePermission;
	params?: TSchema;
	querystring?: TSchema;
	body?: TSchema;
	/** The success status and its body (`null` for streamed bodies). */
	status: number;
	response: TSchema | null;
	/** Error answers whose body is not the usual error body (REANA's 404 of delete_secrets is a list of names). */
	errorResponses?: Record<number, TSchema>;
	/** Content types the body may come in (default JSON). */
	consumes?: string[];
}

/** The permission levels of routes; the non-public ones are `auth/` actions. */
export const routePermissions = [
	"public",
	"user.read",
	"workflow.read",
	"workflow.write",
	"workflow.run",
	"admin",
] as const;
/** The permission a route requires. */
export type RoutePermission = (typeof routePermissions)[number];

const route = <R extends RouteContract>(r: R): R => r;

/** Every route of the API, by REANA's operation id where REANA has one. */
export const routes = {
	ping: route({
		permission: "public",
		method: "GET",
		url: "/api/ping",
		summary: "Is the server up?",
		status: 200,
		response: S.PingResponse,
	}),
	get_you: route({
		permission: "user.read",
		method: "GET",
		url: "/api/you",
		summary: "Who am I?",
		status: 200,
		response: S.YouResponse,
	}),
	info: route({
		permission: "user.read",
		method: "GET",
		url: "/api/info",
		summary: "What this server can do",
		status: 200,
		response: S.InfoResponse,
	}),
	get_workflows: route({
		permission: "workflow.read",
		method: "GET",
		url: "/api/workflows",
		summary: "List workflows (filters, sort, pagination)",
		querystring: S.ListWorkflowsQuery,
		status: 200,
		response: S.ListWorkflowsResponse,
	}),
	create_workflow: route({
		permission: "workflow.write",
		method: "POST",
		url: "/api/workflows",
		summary: "Create a workflow run from a reana.yaml (as JSON)",
		querystring: S.CreateWorkflowQuery,
		body: Type.Record(Type.String(), Type.Unknown()),
		status: 201,
		response: S.CreateWorkflowResponse,
	}),
	validate_workflow: route({
		permission: "workflow.read",
		method: "POST",
		url: "/api/workflows/validate",
		summary: "Validate a reana.yaml (as JSON) without creating anything",
		body: Type.Record(Type.String(), Type.Unknown()),
		status: 200,
		response: S.ValidateResponse,
	}),
	get_workflow_status: route({
		permission: "workflow.read",
		method: "GET",
		url: "/api/workflows/:workflow_id_or_name/status",
		summary: "Status and progress of a run",
		params: S.WorkflowParams,
		status: 200,
		response: S.WorkflowStatusResponse,
	}),
	set_workflow_status: route({
		permission: "workflow.run",
		method: "PUT",
		url: "/api/workflows/:workflow_id_or_name/status",
		summary: "Start, stop or delete a run (REANA's status change)",
		params: S.WorkflowParams,
		querystring: S.SetStatusQuery,
		body: S.SetStatusBody,
		status: 200,
		response: S.WorkflowSubmissionResponse,
	}),
	start_workflow: route({
		permission: "workflow.run",
		method: "POST",
		url: "/api/workflows/:workflow_id_or_name/start",
		summary: "Start a run with optional parameters and operational options",
		params: S.WorkflowParams,
		body: S.StartBody,
		status: 200,
		response: S.WorkflowSubmissionResponse,
	}),
	get_workflow_logs: route({
		permission: "workflow.read",
		method: "GET",
		url: "/api/workflows/:workflow_id_or_name/logs",
		summary: "Workflow and job logs",
		params: S.WorkflowParams,
		querystring: S.LogsQuery,
		status: 200,
		response: S.LogsResponse,
	}),
	get_workflow_specification: route({
		permission: "workflow.read",
		method: "GET",
		url: "/api/workflows/:workflow_id_or_name/specification",
		summary: "The specification and parameters of a run",
		params: S.WorkflowParams,
		status: 200,
		response: S.SpecificationResponse,
	}),
	get_files: route({
		permission: "workflow.read",
		method: "GET",
		url: "/api/workflows/:workflow_id_or_name/workspace",
		summary: "List workspace files",
		params: S.WorkflowParams,
		querystring: S.ListFilesQuery,
		status: 200,
		response: S.ListFilesResponse,
	}),
	upload_file: route({
		permission: "workflow.write",
		method: "POST",
		url: "/api/workflows/:workflow_id_or_name/workspace",
		summary: "Upload one file (raw bytes) into the workspace",
		params: S.WorkflowParams,
		querystring: S.UploadQuery,
		status: 200,
		response: S.MessageBody,
		consumes: ["application/octet-stream"],
	}),
	download_file: route({
		permission: "workflow.read",
		method: "GET",
		url: "/api/workflows/:workflow_id_or_name/workspace/*",
		summary: "Download a file; a directory or a glob comes as a zip",
		params: S.FileParams,
		status: 200,
		response: null,
	}),
	delete_file: route({
		permission: "workflow.write",
		method: "DELETE",
		url: "/api/workflows/:workflow_id_or_name/workspace/*",
		summary: "Delete files (a path or a glob)",
		params: S.FileParams,
		status: 200,
		response: S.DeleteFilesResponse,
	}),
	get_workflow_jobs: route({
		permission: "workflow.read",
		method: "GET",
		url: "/api/workflows/:workflow_id_or_name/jobs",
		summary: "The jobs of a run (Orrery extension)",
		params: S.WorkflowParams,
		status: 200,
		response: S.JobsResponse,
	}),
	get_job_log: route({
		permission: "workflow.read",
		method: "GET",
		url: "/api/workflows/:workflow_id_or_name/jobs/:job_id/log",
		summary: "A job's stdout or stderr from a byte offset, for following (Orrery extension)",
		params: Type.Object({ workflow_id_or_name: Type.String(), job_id: Type.String() }),
		querystring: S.JobLogQuery,
		status: 200,
		response: S.JobLogResponse,
	}),
	get_workflow_events: route({
		permission: "workflow.read",
		method: "GET",
		url: "/api/workflows/:workflow_id_or_name/events",
		summary: "The run's event log after an id, optionally waiting for news (Orrery extension)",
		params: S.WorkflowParams,
		querystring: S.EventsQuery,
		status: 200,
		response: S.EventsResponse,
	}),
	get_workflow_outputs: route({
		permission: "workflow.read",
		method: "GET",
		url: "/api/workflows/:workflow_id_or_name/outputs",
		summary: "The output object of a finished run (Orrery extension)",
		params: S.WorkflowParams,
		status: 200,
		response: S.OutputsResponse,
	}),
	get_workflow_parameters: route({
		permission: "workflow.read",
		method: "GET",
		url: "/api/workflows/:workflow_id_or_name/parameters",
		summary: "The input parameters of a run",
		params: S.WorkflowParams,
		status: 200,
		response: R.ParametersResponse,
	}),
	get_workflow_disk_usage: route({
		permission: "workflow.read",
		method: "GET",
		url: "/api/workflows/:workflow_id_or_name/disk_usage",
		summary: "Disk usage of a workspace (total, or per file with a search)",
		params: S.WorkflowParams,
		querystring: R.DiskUsageQuery,
		status: 200,
		response: R.DiskUsageResponse,
	}),
	move_files: route({
		permission: "workflow.write",
		method: "PUT",
		url: "/api/workflows/move_files/:workflow_id_or_name",
		summary: "Move or rename a file or folder inside a workspace",
		params: S.WorkflowParams,
		querystring: R.MoveFilesQuery,
		status: 200,
		response: R.WorkflowMessage,
	}),
	prune_workspace: route({
		permission: "workflow.write",
		method: "POST",
		url: "/api/workflows/:workflow_id_or_name/prune",
		summary: "Delete every file of a workspace except its declared inputs and outputs",
		params: S.WorkflowParams,
		querystring: R.PruneQuery,
		status: 200,
		response: R.WorkflowMessage,
	}),
	get_workflow_retention_rules: route({
		permission: "workflow.read",
		method: "GET",
		url: "/api/workflows/:workflow_id_or_name/retention_rules",
		summary: "The retention rules of a run",
		params: S.WorkflowParams,
		status: 200,
		response: R.RetentionRulesResponse,
	}),
	get_workflow_diff: route({
		permission: "workflow.read",
		method: "GET",
		url: "/api/workflows/:workflow_id_or_name_a/diff/:workflow_id_or_name_b",
		summary: "Differences of two runs: specification, parameters and workspace files",
		params: R.DiffParams,
		querystring: R.DiffQuery,
		status: 200,
		response: R.DiffResponse,
	}),
	get_secrets: route({
		permission: "user.read",
		method: "GET",
		url: "/api/secrets",
		summary: "Your secrets (names and types only)",
		status: 200,
		response: R.SecretsList,
	}),
	add_secrets: route({
		permission: "workflow.write",
		method: "POST",
		url: "/api/secrets/",
		summary: "Add secrets (values base64-encoded), encrypted at rest",
		querystring: R.AddSecretsQuery,
		body: R.AddSecretsBody,
		status: 201,
		response: S.MessageBody,
	}),
	delete_secrets: route({
		permission: "workflow.write",
		method: "DELETE",
		url: "/api/secrets/",
		summary: "Delete secrets by name; a 404 answers the names that do not exist",
		body: R.SecretNames,
		errorResponses: { 404: R.SecretNames },
		status: 200,
		response: R.SecretNames,
	}),
	get_quota_usage: route({
		permission: "admin",
		method: "GET",
		url: "/api/quota",
		summary: "A user's usage and limit of a resource (administrators, or X-Quota-Management-Secret)",
		querystring: R.QuotaQuery,
		status: 200,
		response: R.QuotaResponse,
	}),
	set_quota_limit: route({
		permission: "admin",
		method: "POST",
		url: "/api/quota",
		summary: "Set a user's limit of a resource (administrators, or X-Quota-Management-Secret)",
		body: R.SetQuotaBody,
		status: 200,
		response: R.QuotaResponse,
	}),
	patch_quota: route({
		permission: "admin",
		method: "PATCH",
		url: "/api/quota",
		summary: "Recompute a user's usage, optionally changing a limit (administrators, or X-Quota-Management-Secret)",
		body: R.PatchQuotaBody,
		status: 200,
		response: R.QuotaResponse,
	}),
	status: route({
		permission: "user.read",
		method: "GET",
		url: "/api/status",
		summary: "How busy the server is: runs and jobs by state",
		status: 200,
		response: R.ClusterStatusResponse,
	}),
	get_config: route({
		permission: "public",
		method: "GET",
		url: "/api/config",
		summary: "Settings clients may adapt to",
		status: 200,
		response: R.ConfigResponse,
	}),
	open_interactive_session: route({
		permission: "workflow.run",
		method: "POST",
		url: "/api/workflows/:workflow_id_or_name/open/:interactive_session_type",
		summary: "Open an interactive session (not available yet: 501)",
		params: R.SessionParams,
		status: 200,
		response: S.MessageBody,
	}),
	close_interactive_session: route({
		permission: "workflow.run",
		method: "POST",
		url: "/api/workflows/:workflow_id_or_name/close/",
		summary: "Close an interactive session (not available yet: 501)",
		params: S.WorkflowParams,
		status: 200,
		response: S.MessageBody,
	}),
	launch: route({
		permission: "workflow.write",
		method: "POST",
		url: "/api/launch",
		summary: "Launch a workflow from a remote URL (not available yet: 501)",
		status: 200,
		response: S.MessageBody,
	}),
	gitlab_oauth: route({
		permission: "user.read",
		method: "GET",
		url: "/api/gitlab",
		summary: "GitLab integration (not available: 501)",
		status: 200,
		response: S.MessageBody,
	}),
	gitlab_connect: route({
		permission: "user.read",
		method: "GET",
		url: "/api/gitlab/connect",
		summary: "GitLab integration (not available: 501)",
		status: 200,
		response: S.MessageBody,
	}),
	gitlab_projects: route({
		permission: "user.read",
		method: "GET",
		url: "/api/gitlab/projects",
		summary: "GitLab integration (not available: 501)",
		status: 200,
		response: S.MessageBody,
	}),
	create_gitlab_webhook: route({
		permission: "workflow.write",
		method: "POST",
		url: "/api/gitlab/webhook",
		summary: "GitLab integration (not available: 501)",
		status: 201,
		response: S.MessageBody,
	}),
	delete_gitlab_webhook: route({
		permission: "workflow.write",
		method: "DELETE",
		url: "/api/gitlab/webhook",
		summary: "GitLab integration (not available: 501)",
		status: 200,
		response: S.MessageBody,
	}),
} as const satisfies Record<string, RouteContract>;

/** The routes and the plain endpoint table agree; checked at load so they cannot drift apart. */
for (const [op, r] of Object.entries(routes)) {
	const e = endpoints[op as OperationId];
	if (!e || e.method !== r.method || e.url !== r.url)
		throw new Error(`contract: route ${op} disagrees with endpoints.ts`);
}
