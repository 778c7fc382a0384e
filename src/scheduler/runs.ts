import { stat } from "node:fs/promises";
import { AppError, type Clock, isoNow, isUuid, newId } from "../common/index.js";
import type { ReanaSpecification } from "../contract/index.js";
import {
	appendEvents,
	type Db,
	findWorkflowById,
	findWorkflowByName,
	insertRestartRun,
	insertRetentionRules,
	insertWorkflowRun,
	type RetentionRuleRow,
	transitionWorkflow,
	type UserRow,
	updateWorkflow,
	type WorkflowRow,
} from "../db/index.js";
import type { WorkflowEngine } from "../engines/index.js";
import { formatProblem, type LoadedSpec, SpecError, type WorkflowType } from "../spec/index.js";
import { resolveInWorkspace, type Workspaces } from "../storage/index.js";
import { exceededQuota, recomputeUsage } from "./accounting.js";
import { workspaceView } from "./run-view.js";
import { remoteInputPathsOf } from "./staging-plan.js";
import { workflowFileDigests } from "./workflow-files.js";

/** What the run commands work with. */
export interface RunsDeps {
	db: Db;
	workspaces: Workspaces;
	engines: ReadonlyMap<WorkflowType, WorkflowEngine>;
	clock: Clock;
	/** Tells the scheduler there is work. */
	wake(): void;
	/** Checks a run's staging (URLs, credentials, allowed hosts) before it starts; absent: no staging. */
	checkStaging?: (wf: WorkflowRow) => Promise<void>;
}

const namePattern = /^[A-Za-z0-9_-]{1,100}$/;

/** Checks a workflow name (the part before `.RUN`). */
export function checkWorkflowName(name: string): void {
	if (!namePattern.test(name)) {
		throw new AppError(
			"validation_failed",
			`'${name}' is not a valid workflow name: use letters, digits, '-' and '_' (no dots; Orrery adds .RUN)`,
		);
	}
	// A reference shaped like an id is read as one: such a name would name someone else's run.
	if (isUuid(name)) {
		throw new AppError(
			"validation_failed",
			`'${name}' is not a valid workflow name: it has the shape of a workflow id; choose another name`,
		);
	}
}

/** A workflow reference as users write it: a UUID, `NAME`, `NAME.RUN` or `NAME.RUN.MINOR`. */
export type WorkflowRef = { id: string } | { name: string; run?: number; minor?: number };

/** Parses a workflow reference. */
export function parseWorkflowRef(ref: string): WorkflowRef {
	if (isUuid(ref)) return { id: ref.toLowerCase() };
	const m = /^([^.]+)(?:\.(\d+)(?:\.(\d+))?)?$/.exec(ref);
	if (!m) throw new AppError("not_found", `workflow '${ref}' not found; refer to it as NAME, NAME.RUN or its id`);
	const out: WorkflowRef = { name: m[1] as string };
	if (m[2] !== undefined) out.run = Number(m[2]);
	if (m[3] !== undefined) out.minor = Number(m[3]);
	return out;
}

/** `NAME.RUN` or `NAME.RUN.MINOR`, as REANA names runs. */
export function runName(wf: Pick<WorkflowRow, "name" | "run_number" | "run_minor">): string {
	return wf.run_minor > 0 ? `${wf.name}.${wf.run_number}.${wf.run_minor}` : `${wf.name}.${wf.run_number}`;
}

/**
 * Finds a workflow by reference for a user. Names are looked up among the user's own runs; a UUID
 * may name anyone's workflow, and the caller checks permission on what comes back.
 */
export async function findRun(db: Db, user: UserRow, ref: string): Promise<WorkflowRow> {
	const parsed = parseWorkflowRef(ref);
	const wf =
		"id" in parsed
			? await findWorkflowById(db, parsed.id)
			: await findWorkflowByName(db, user.id, parsed.name, parsed.run, parsed.minor);
	if (!wf || wf.status === "deleted") {
		throw new AppError("not_found", `workflow '${ref}' not found; list your workflows with 'orrery list'`);
	}
	return wf;
}

/** Refuses new work when one of the user's quotas is used up (REANA answers 403 there). */
export async function checkQuota(db: Db, userId: string): Promise<void> {
	const over = await exceededQuota(db, userId);
	if (!over) return;
	const [used, limit] =
		over.resource === "cpu"
			? [`${(over.usage / 3_600_000).toFixed(2)} h`, `${(over.limit / 3_600_000).toFixed(2)} h`]
			: [`${(over.usage / 1024 ** 3).toFixed(2)} GiB`, `${(over.limit / 1024 ** 3).toFixed(2)} GiB`];
	throw new AppError(
		"forbidden",
		`${over.resource} quota exceeded: ${used} used of ${limit}; delete old runs (orrery delete) or ask your administrator for more`,
	);
}

/** Creates a run: a database row and an empty workspace. */
export async function createRun(deps: RunsDeps, owner: UserRow, name: string, spec: LoadedSpec): Promise<WorkflowRow> {
	checkWorkflowName(name);
	await checkQuota(deps.db, owner.id);
	if (!deps.engines.has(spec.type)) {
		throw new AppError(
			"validation_failed",
			`${spec.type} workflows are not supported by this server yet; supported: ${[...deps.engines.keys()].join(", ")}`,
		);
	}
	const id = newId();
	const at = isoNow(deps.clock);
	// The workspace comes first: an owner the root template cannot name leaves no run behind.
	const workspace = await deps.workspaces.create(owner, id);
	const row = await insertWorkflowRun(deps.db, {
		id,
		name,
		owner_id: owner.id,
		type: spec.type,
		status: "created",
		status_message: null,
		spec: JSON.stringify(spec.reana),
		parameters: "{}",
		options: "{}",
		workspace_path: workspace,
		progress: null,
		outputs: null,
		created_at: at,
		updated_at: at,
		started_at: null,
		finished_at: null,
		stop_requested_at: null,
		restart_of: null,
		disk_bytes: null,
		lease_owner: null,
		lease_expires_at: null,
		workflow_files: null,
	}).catch(async (error: unknown) => {
		// The run was not recorded, so its empty workspace goes; the insert's error is the one to report.
		await deps.workspaces.remove(workspace).catch(() => undefined);
		throw error;
	});
	await insertRetentionRules(deps.db, retentionRulesOf(id, spec.reana));
	await appendEvents(deps.db, [
		{
			workflow_id: id,
			job_id: null,
			at,
			level: "info",
			type: "workflow_created",
			message: `workflow ${runName(row)} created`,
		},
	]);
	return row;
}

/** Options given at start: REANA's `-p` parameters and `-o` operational options. */
export interface StartOptions {
	inputParameters?: Record<string, unknown>;
	operationalOptions?: Record<string, unknown>;
}

/** Queues a created run for the scheduler, after checking its parameters, options and declared inputs. */
export async function startRun(deps: RunsDeps, wf: WorkflowRow, options: StartOptions): Promise<WorkflowRow> {
	if (wf.status !== "created") {
		throw new AppError(
			"conflict",
			`workflow ${runName(wf)} is ${wf.status} and cannot be started again; create a new run (orrery run) or restart it`,
		);
	}
	const spec = JSON.parse(wf.spec) as ReanaSpecification;
	const declared = spec.inputs?.parameters ?? {};
	const given = options.inputParameters ?? {};
	// The specification's `inputs.options` are defaults that options given at start override.
	const operationalOptions = { ...(spec.inputs?.options ?? {}), ...(options.operationalOptions ?? {}) };
	const engine = deps.engines.get(wf.type as WorkflowType) as WorkflowEngine;
	const names = engine.parameterNames
		? await engine.parameterNames({
				spec,
				parameters: declared,
				options: operationalOptions,
				workspace: workspaceView(wf.workspace_path),
			})
		: Object.keys(declared);
	const unknown = Object.keys(given).filter((k) => !names.includes(k));
	if (unknown.length > 0) {
		throw new AppError(
			"validation_failed",
			`unknown input parameter${unknown.length > 1 ? "s" : ""} ${unknown.join(", ")}; the workflow declares ${names.join(", ") || "none"}`,
		);
	}
	const validation = {
		spec,
		parameters: { ...declared, ...given },
		options: operationalOptions,
		workspace: workspaceView(wf.workspace_path),
	};
	const problems = (await engine.validate(validation)).filter((p) => p.severity === "error");
	if (problems.length > 0) {
		const first = problems[0] as (typeof problems)[number];
		throw new AppError(
			"validation_failed",
			first.file === "operational options" || first.file === "input parameters" ? first.message : formatProblem(first),
			{
				details: { problems },
			},
		);
	}
	await checkDeclaredInputs(wf.workspace_path, spec);
	await deps.checkStaging?.({ ...wf, parameters: JSON.stringify(given), options: JSON.stringify(operationalOptions) });
	await checkQuota(deps.db, wf.owner_id);
	// What the workflow files were when the run started (a restart after a local edit runs other files).
	const workflowFiles = await workflowFileDigests(engine, validation);
	const at = isoNow(deps.clock);
	const ok = await transitionWorkflow(deps.db, wf.id, ["created"], {
		status: "queued",
		parameters: JSON.stringify(given),
		options: JSON.stringify(operationalOptions),
		updated_at: at,
		status_message: null,
		workflow_files: JSON.stringify(workflowFiles),
	});
	if (!ok) throw new AppError("conflict", `workflow ${runName(wf)} was started by another request`);
	await appendEvents(deps.db, [
		{ workflow_id: wf.id, job_id: null, at, level: "info", type: "workflow_queued", message: "workflow queued" },
	]);
	deps.wake();
	return { ...wf, status: "queued" };
}

/**
 * Every file and directory the specification declares under `inputs` must be in the workspace,
 * except those `inputs.remote` brings in (they are staged before the first job).
 */
export async function checkDeclaredInputs(workspace: string, spec: ReanaSpecification): Promise<void> {
	const missing: string[] = [];
	const remote = remoteInputPathsOf(spec).map(trimPath);
	const isStaged = (p: string) => remote.some((r) => trimPath(p) === r || trimPath(p).startsWith(`${r}/`));
	for (const [list, kind] of [
		[spec.inputs?.files ?? [], "file"],
		[spec.inputs?.directories ?? [], "directory"],
	] as const) {
		for (const p of list) {
			if (isStaged(p)) continue;
			const s = await resolveInWorkspace(workspace, p)
				.then((abs) => stat(abs))
				.catch(() => undefined);
			if (!s || (kind === "file" ? !s.isFile() : !s.isDirectory())) missing.push(p);
		}
	}
	if (missing.length > 0) {
		throw new SpecError([
			{
				severity: "error",
				file: "reana.yaml",
				path: "inputs",
				message: `declared input${missing.length > 1 ? "s" : ""} missing from the workspace: ${missing.join(", ")}`,
				hint: "upload them first (orrery upload -w NAME), or remove them from inputs",
			},
		]);
	}
}

function trimPath(p: string): string {
	return p.replace(/^\.?\/+/, "").replace(/\/+$/, "");
}

/** Asks the scheduler to stop a run; the scheduler cancels its jobs and marks it stopped. */
export async function requestStop(deps: RunsDeps, wf: WorkflowRow): Promise<void> {
	const at = isoNow(deps.clock);
	const ok = await transitionWorkflow(deps.db, wf.id, ["queued", "pending", "running"], {
		stop_requested_at: at,
		updated_at: at,
	});
	if (!ok)
		throw new AppError("conflict", `workflow ${runName(wf)} is ${wf.status}, not running; there is nothing to stop`);
	deps.wake();
}

/** Waits until a run reaches a state that is not active (or the time runs out); returns the latest row. */
export async function waitUntilSettled(db: Db, id: string, timeoutMs: number): Promise<WorkflowRow | undefined> {
	const end = Date.now() + timeoutMs;
	for (;;) {
		const wf = await findWorkflowById(db, id);
		if (!wf || !["queued", "pending", "running"].includes(wf.status) || Date.now() > end) return wf;
		await new Promise((r) => setTimeout(r, 50));
	}
}

/** Deletes a run (REANA's `deleted` state) and, by default, its workspace. A running run must be stopped first. */
export async function deleteRun(
	deps: RunsDeps,
	wf: Pick<WorkflowRow, "id" | "name" | "run_number" | "run_minor" | "status" | "workspace_path" | "owner_id">,
	options: { includeWorkspace: boolean },
): Promise<void> {
	const at = isoNow(deps.clock);
	const ok = await transitionWorkflow(deps.db, wf.id, ["created", "finished", "failed", "stopped"], {
		status: "deleted",
		updated_at: at,
	});
	if (!ok) {
		throw new AppError(
			"conflict",
			`workflow ${runName(wf)} is ${wf.status}; stop it first (orrery stop -w ${runName(wf)})`,
		);
	}
	await appendEvents(deps.db, [
		{ workflow_id: wf.id, job_id: null, at, level: "info", type: "workflow_deleted", message: "workflow deleted" },
	]);
	if (options.includeWorkspace) {
		// Restarts run in their parent's workspace: it goes only with the last run that uses it.
		const sharing = await deps.db.kysely
			.selectFrom("workflows")
			.select("id")
			.where("workspace_path", "=", wf.workspace_path)
			.where("status", "!=", "deleted")
			.executeTakeFirst();
		if (!sharing) {
			await deps.workspaces.remove(wf.workspace_path);
			await updateWorkflow(deps.db, wf.id, { status_message: "workspace deleted" });
		}
	}
	await recomputeUsage(deps.db, deps.clock, wf.owner_id);
}

/** The retention rules a specification declares (`workspace.retention_days`), for a new run. */
function retentionRulesOf(workflowId: string, spec: ReanaSpecification): RetentionRuleRow[] {
	return Object.entries(spec.workspace?.retention_days ?? {}).map(([pattern, days]) => ({
		id: newId(),
		workflow_id: workflowId,
		pattern,
		retention_days: days,
		apply_on: null,
		status: "created" as const,
	}));
}

/**
 * What a restart with FROM=step does not run again, for its record: the files of the steps before
 * it come from the run it restarts, made with that run's parameters (which may differ from this one's).
 */
function skippedStepsEvents(row: WorkflowRow, parent: WorkflowRow, options: StartOptions, at: string) {
	const from = options.operationalOptions?.FROM;
	if (typeof from !== "string" || from === "") return [];
	return [
		{
			workflow_id: row.id,
			job_id: null,
			at,
			level: "warning" as const,
			type: "steps_reused",
			message: `the steps before '${from}' are not run again: their files in the workspace come from ${runName(parent)}, run with the parameters ${parent.parameters}`,
		},
	];
}

/** Options of a restart: a new specification, parameters and operational options, all optional. */
export interface RestartOptions extends StartOptions {
	specification?: LoadedSpec;
}

/**
 * Restarts an ended run as `NAME.RUN.MINOR`: a new run in the same workspace (so FROM=step can pick
 * up where it stopped), with the original specification unless a new one is given, started at once.
 */
export async function restartRun(deps: RunsDeps, wf: WorkflowRow, options: RestartOptions): Promise<WorkflowRow> {
	if (!["finished", "failed", "stopped"].includes(wf.status)) {
		throw new AppError(
			"conflict",
			`workflow ${runName(wf)} is ${wf.status}; only finished, failed or stopped runs can be restarted`,
		);
	}
	await checkQuota(deps.db, wf.owner_id);
	const spec = options.specification?.reana ?? (JSON.parse(wf.spec) as ReanaSpecification);
	const type = options.specification?.type ?? (wf.type as WorkflowType);
	if (!deps.engines.has(type))
		throw new AppError("validation_failed", `${type} workflows are not supported by this server`);
	const at = isoNow(deps.clock);
	const made = await insertRestartRun(
		deps.db,
		{
			id: newId(),
			name: wf.name,
			owner_id: wf.owner_id,
			type,
			status: "created",
			status_message: null,
			spec: JSON.stringify(spec),
			parameters: "{}",
			options: "{}",
			workspace_path: wf.workspace_path,
			progress: null,
			outputs: null,
			created_at: at,
			updated_at: at,
			started_at: null,
			finished_at: null,
			stop_requested_at: null,
			restart_of: wf.id,
			disk_bytes: null,
			lease_owner: null,
			lease_expires_at: null,
			workflow_files: null,
		},
		wf.run_number,
	);
	if ("active" in made)
		throw new AppError(
			"conflict",
			`workflow ${runName(made.active)} is ${made.active.status === "created" ? "starting" : made.active.status} in the same workspace; wait until it ends (or stop it) before restarting`,
		);
	const row = made.inserted;
	await insertRetentionRules(deps.db, retentionRulesOf(row.id, spec));
	await appendEvents(deps.db, [
		{
			workflow_id: row.id,
			job_id: null,
			at,
			level: "info",
			type: "workflow_created",
			message: `workflow ${runName(row)} created as a restart of ${runName(wf)}`,
		},
		...skippedStepsEvents(row, wf, options, at),
	]);
	try {
		return await startRun(deps, row, options);
	} catch (error) {
		// A restart that cannot start leaves no half-made run behind.
		await transitionWorkflow(deps.db, row.id, ["created"], { status: "deleted", updated_at: isoNow(deps.clock) });
		throw error;
	}
}
