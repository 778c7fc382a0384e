import type { FastifyInstance } from "fastify";
import { authorize } from "../../auth/index.js";
import { AppError } from "../../common/index.js";
import { toReanaTime } from "../../contract/index.js";
import {
	findUserById,
	listAccessibleWorkflows,
	listWorkflows,
	type UserRow,
	type WorkflowListRow,
	type WorkflowRow,
	type WorkflowStatus,
	workflowStatuses,
} from "../../db/index.js";
import {
	createRun,
	decodeWorkflow,
	deleteRun,
	parseWorkflowRef,
	requestStop,
	restartRun,
	runName,
	startRun,
	waitUntilSettled,
} from "../../scheduler/index.js";
import { type LoadedSpec, SpecError, validateReanaSpec } from "../../spec/index.js";
import { diskUsage } from "../../storage/index.js";
import { handle } from "../route-kit.js";
import { removeRunFolders } from "../run-folders.js";
import { parseSearch } from "../search-filter.js";
import type { ServerContext } from "../server-context.js";
import { progressOf } from "../workflow-views.js";
import { findAccessibleRun, listingItems, sharedListing } from "./shared-runs.js";

/**
 * Finds a run for a principal and checks the action on it through `can` (owner, admin, or a live share
 * of the run or of all runs of its name, directly or through a group). Another owner's run is found by
 * UUID or by `OWNER-EMAIL:NAME.RUN`.
 */
export async function runFor(
	ctx: ServerContext,
	principal: Parameters<typeof authorize>[0],
	ref: string,
	action: Parameters<typeof authorize>[1],
): Promise<WorkflowRow> {
	return findAccessibleRun(ctx, principal, ref, action);
}

/** The reana.yaml inside a create request: REANA's clients send it as the body, some wrapped in `reana_specification`. */
function specFromBody(body: Record<string, unknown>): unknown {
	if (body.reana_specification && typeof body.reana_specification === "object") return body.reana_specification;
	return body;
}

/** Routes that create, list, start, stop and delete runs. */
export function workflowRoutes(app: FastifyInstance, ctx: ServerContext): void {
	handle(app, "get_workflows", async ({ principal, query }) => {
		authorize(principal, "workflow.read");
		const size = query.size ?? 100000;
		const page = query.page ?? 1;
		const statuses = (Array.isArray(query.status) ? query.status : query.status ? query.status.split(",") : [])
			.map((s) => s.trim())
			.filter(Boolean);
		for (const s of statuses) {
			if (!(workflowStatuses as readonly string[]).includes(s)) {
				throw new AppError("validation_failed", `unknown status '${s}'; use one of ${workflowStatuses.join(", ")}`);
			}
		}
		const filter = query.workflow_id_or_name ? parseWorkflowRef(query.workflow_id_or_name) : undefined;
		// reana-client's `--filter name=x` (JSON; REANA matches its first name, Orrery every one), or plain text.
		const parsed = parseSearch(query.search, ["name"]);
		const search = parsed?.kind === "text" ? [parsed.text] : parsed?.fields.name;
		const shared = await sharedListing(ctx, principal, query);
		const listing = {
			ownerId: principal.user.id,
			statuses: statuses as WorkflowStatus[],
			...(search ? { search } : {}),
			sort: query.sort ?? "desc",
			offset: (page - 1) * size,
			limit: size,
			...(filter && "id" in filter ? { id: filter.id } : {}),
			...(filter && "name" in filter
				? { name: filter.name, ...(filter.run !== undefined ? { run: filter.run, minor: filter.minor ?? 0 } : {}) }
				: {}),
			...(query.type === "interactive" ? { withSession: true } : {}),
		};
		const { items, total } = shared
			? await listAccessibleWorkflows(ctx.db, shared, listing)
			: await listWorkflows(ctx.db, listing);
		const withSize = query.include_workspace_size === true || query.verbose === true;
		const rows = await listingItems(ctx, principal, items, async (wf) =>
			// Ended runs were measured when they ended; the others are measured now.
			withSize ? (wf.disk_bytes ?? (await diskUsage(wf.workspace_path).catch(() => 0))) : undefined,
		);
		return {
			items: rows,
			total,
			page,
			size,
			has_next: page * size < total,
			has_prev: page > 1,
			user_has_workflows:
				total > 0 || (await listWorkflows(ctx.db, { ownerId: principal.user.id, offset: 0, limit: 1 })).total > 0,
		};
	});

	handle(app, "create_workflow", async ({ principal, query, body }) => {
		authorize(principal, "workflow.write");
		const name = query.workflow_name || "workflow";
		const spec: LoadedSpec = validateReanaSpec(specFromBody(body), "reana.yaml");
		const wf = await createRun(ctx.runs, principal.user, name, spec);
		return {
			message: "The workflow has been successfully created.",
			workflow_id: wf.id,
			workflow_name: runName(wf),
			validation_warnings: spec.warnings.map((w) => ({ path: w.path, message: w.message, code: "warning" })),
		};
	});

	handle(app, "validate_workflow", async ({ body }) => {
		// Problems are the answer here, not an error: a client asked whether the specification is valid.
		try {
			const spec = validateReanaSpec(specFromBody(body), "reana.yaml");
			const warnings = spec.warnings.map((w) => ({ code: "warning", path: w.path, message: w.message, hint: w.hint }));
			return { message: "The specification is valid.", valid: true, errors: [], warnings };
		} catch (error) {
			if (!(error instanceof SpecError)) throw error;
			const of = (severity: string) => error.problems.filter((p) => p.severity === severity);
			return {
				message: error.message,
				valid: false,
				errors: of("error").map((p) => ({
					code: "validation_failed",
					path: p.path,
					message: `${p.message} (hint: ${p.hint})`,
				})),
				warnings: of("warning").map((p) => ({ code: "warning", path: p.path, message: p.message, hint: p.hint })),
			};
		}
	});

	handle(app, "get_workflow_status", async ({ principal, params }) => {
		const wf = await runFor(ctx, principal, params.workflow_id_or_name, "workflow.read");
		const owner = (await findUserById(ctx.db, wf.owner_id)) as UserRow;
		return {
			id: wf.id,
			name: runName(wf),
			status: wf.status,
			user: owner.id,
			created: toReanaTime(wf.created_at),
			progress: progressOf(wf),
			logs: "",
			message: wf.status_message ?? "",
			workspace_path: wf.workspace_path,
		};
	});

	handle(app, "get_workflow_specification", async ({ principal, params }) => {
		const wf = await runFor(ctx, principal, params.workflow_id_or_name, "workflow.read");
		const { spec } = decodeWorkflow(wf);
		return {
			specification: spec as Record<string, unknown>,
			parameters: JSON.parse(wf.parameters) as Record<string, unknown>,
		};
	});

	handle(app, "get_workflow_outputs", async ({ principal, params }) => {
		const wf = await runFor(ctx, principal, params.workflow_id_or_name, "workflow.read");
		return { workflow_id: wf.id, status: wf.status, outputs: wf.outputs === null ? null : JSON.parse(wf.outputs) };
	});

	const start = async (
		wf: WorkflowRow,
		body: {
			input_parameters?: Record<string, unknown>;
			operational_options?: Record<string, unknown>;
			reana_specification?: unknown;
			restart?: boolean;
		},
	) => {
		const options = {
			...(body.input_parameters ? { inputParameters: body.input_parameters } : {}),
			...(body.operational_options ? { operationalOptions: body.operational_options } : {}),
		};
		if (body.restart) {
			// REANA's restart: a new run NAME.RUN.MINOR in the same workspace, optionally with a new specification.
			const specification =
				body.reana_specification && typeof body.reana_specification === "object"
					? validateReanaSpec(specFromBody(body.reana_specification as Record<string, unknown>), "reana.yaml")
					: undefined;
			const restarted = await restartRun(ctx.runs, wf, { ...options, ...(specification ? { specification } : {}) });
			return startSubmission(restarted, `Workflow ${runName(wf)} restarted as ${runName(restarted)}`);
		}
		const started = await startRun(ctx.runs, wf, options);
		return startSubmission(started, `Workflow successfully launched`);
	};

	/**
	 * What starting asks of the caller: running the run, and changing it when a restart brings a new
	 * specification (new commands, in the owner's workspace, with the owner's secrets): a share that
	 * allows running only may not do that.
	 */
	const startAction = (body: { restart?: boolean; reana_specification?: unknown } | undefined) =>
		body?.restart && body.reana_specification ? ("workflow.write" as const) : ("workflow.run" as const);

	const submission = (wf: WorkflowRow, message: string) => ({
		message,
		status: wf.status,
		user: wf.owner_id,
		workflow_id: wf.id,
		workflow_name: runName(wf),
	});

	/**
	 * A start answers as reana-server's does: the base name and the run number apart (`2`, or `"2.1"`
	 * for a restart), which reana-client's restart joins into the new run's name.
	 */
	const startSubmission = (wf: WorkflowRow, message: string) => ({
		...submission(wf, message),
		workflow_name: wf.name,
		run_number: wf.run_minor ? `${wf.run_number}.${wf.run_minor}` : wf.run_number,
	});

	handle(app, "start_workflow", async ({ principal, params, body }) => {
		const wf = await runFor(ctx, principal, params.workflow_id_or_name, startAction(body));
		return start(wf, body ?? {});
	});

	handle(app, "set_workflow_status", async ({ principal, params, query, body }) => {
		const action = query.status === "deleted" ? "workflow.write" : startAction(body);
		const wf = await runFor(ctx, principal, params.workflow_id_or_name, action);
		switch (query.status) {
			case "start":
				return start(wf, body ?? {});
			case "stop": {
				await requestStop(ctx.runs, wf);
				const settled = (await waitUntilSettled(ctx.db, wf.id, 15_000)) ?? wf;
				return submission(
					settled,
					settled.status === "stopped"
						? `Workflow ${runName(wf)} successfully stopped.`
						: `Workflow ${runName(wf)} is stopping.`,
				);
			}
			case "deleted": {
				const targets: WorkflowListRow[] = body?.all_runs
					? (await listWorkflows(ctx.db, { ownerId: wf.owner_id, name: wf.name, offset: 0, limit: 100000 })).items
					: [wf];
				const active = targets.filter((t) => ["queued", "pending", "running"].includes(t.status));
				if (active.length > 0) {
					throw new AppError(
						"conflict",
						`workflow ${active.map(runName).join(", ")} is still ${active[0]?.status}; stop it first ('stop -w ${runName(active[0] as WorkflowListRow)}' with orrery or reana-client)`,
					);
				}
				for (const t of targets) {
					// Its session (a Jupyter server on the workspace) goes with it.
					await ctx.interactive.close(t);
					await deleteRun(ctx.runs, t, { includeWorkspace: true });
					await removeRunFolders(ctx, t);
				}
				return {
					...submission(wf, `Workflow ${body?.all_runs ? `${wf.name} (all runs)` : runName(wf)} successfully deleted.`),
					status: "deleted",
				};
			}
		}
	});
}
