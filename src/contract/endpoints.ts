/** Every operation of the HTTP API: its method and path. Plain data, so the CLI loads it without the schemas. */
export const endpoints = {
	ping: { method: "GET", url: "/api/ping" },
	get_you: { method: "GET", url: "/api/you" },
	info: { method: "GET", url: "/api/info" },
	get_workflows: { method: "GET", url: "/api/workflows" },
	create_workflow: { method: "POST", url: "/api/workflows" },
	validate_workflow: { method: "POST", url: "/api/workflows/validate" },
	get_workflow_status: { method: "GET", url: "/api/workflows/:workflow_id_or_name/status" },
	set_workflow_status: { method: "PUT", url: "/api/workflows/:workflow_id_or_name/status" },
	start_workflow: { method: "POST", url: "/api/workflows/:workflow_id_or_name/start" },
	get_workflow_logs: { method: "GET", url: "/api/workflows/:workflow_id_or_name/logs" },
	get_workflow_specification: { method: "GET", url: "/api/workflows/:workflow_id_or_name/specification" },
	get_files: { method: "GET", url: "/api/workflows/:workflow_id_or_name/workspace" },
	upload_file: { method: "POST", url: "/api/workflows/:workflow_id_or_name/workspace" },
	download_file: { method: "GET", url: "/api/workflows/:workflow_id_or_name/workspace/*" },
	delete_file: { method: "DELETE", url: "/api/workflows/:workflow_id_or_name/workspace/*" },
	get_workflow_jobs: { method: "GET", url: "/api/workflows/:workflow_id_or_name/jobs" },
	get_job_log: { method: "GET", url: "/api/workflows/:workflow_id_or_name/jobs/:job_id/log" },
	get_workflow_events: { method: "GET", url: "/api/workflows/:workflow_id_or_name/events" },
	get_workflow_outputs: { method: "GET", url: "/api/workflows/:workflow_id_or_name/outputs" },
} as const;

/** The operation ids of the API (REANA's where REANA has the operation). */
export type OperationId = keyof typeof endpoints;
