import { createHash } from "node:crypto";
import { posix } from "node:path";
import { AppError } from "../../common/index.js";
import { type CwlCommandLineTool, findRequirement } from "../../spec/index.js";
import type { JobRequest, StepResources } from "../workflow-engine.js";
import { buildCommandLine } from "./command-line.js";
import { type ExpressionScope, evaluate } from "./expression-evaluator.js";
import { isFileOrDirectory, pathOfValue } from "./file-values.js";
import { relocateInputs, type StagingPlan, stageInputs, stageWorkDir } from "./input-staging.js";
import { renderJobScript } from "./job-script.js";
import {
	CwlRunError,
	javascriptOf,
	type RunEnvironment,
	type Scopes,
	UnsupportedFeatureError,
	whereOf,
} from "./run-environment.js";

/** The folder, relative to the workspace, holding the work directories of CWL jobs. */
export const cwlWorkDir = "cwl-work";

/** One CommandLineTool invocation: everything decided before it runs, and what `collect` needs after. */
export interface Invocation {
	key: string;
	tool: CwlCommandLineTool;
	scopes: Scopes;
	/** The inputs as the tool sees them (staged paths). */
	inputs: Record<string, unknown>;
	runtime: Record<string, unknown>;
	jobDir: string;
	request: JobRequest;
}

/**
 * The job folder of an invocation key in a run: `cwl-work/<run id>/<key>-<hash>` (readable, unique).
 * The run id keeps a restart, which shares its parent's workspace, out of its parent's folders; the
 * attempts of one job share the folder, and its script empties `out/`, `tmp/` and `stg/` first.
 */
export function jobDirFor(workspace: string, runId: string | undefined, key: string): string {
	// A run id is one of ours (a UUID); anything that could leave cwl-work/ is a bug.
	if (runId === undefined || !/^[A-Za-z0-9_-]+$/.test(runId))
		throw new AppError("internal", `a CWL job needs the id of its run, got ${JSON.stringify(runId)}`);
	const safe = key.replace(/[^A-Za-z0-9._-]+/g, "_").slice(0, 80);
	const digest = createHash("sha1").update(key).digest("hex").slice(0, 8);
	return `${workspace}/${cwlWorkDir}/${runId}/${safe}-${digest}`;
}

/** Prepares a tool invocation: runtime, staging, command line and the job request. */
export async function prepareInvocation(
	tool: CwlCommandLineTool,
	completed: Record<string, unknown>,
	scopes: Scopes,
	key: string,
	stepName: string,
	env: RunEnvironment,
): Promise<Invocation> {
	const jobDir = jobDirFor(env.workspace, env.runId, key);
	const outdir = `${jobDir}/out`;
	const tmpdir = `${jobDir}/tmp`;
	const javascript = javascriptOf(scopes);
	const where = (field: string) => whereOf(tool, env.workspace, tool.loc, field);
	const base = { ...(javascript ? { javascript } : {}), timeoutMs: env.timeoutMs };
	const resources = resourcesOf(scopes, {
		...base,
		inputs: completed,
		self: null,
		runtime: {},
		where: where("ResourceRequirement"),
	});
	const runtime: Record<string, unknown> = {
		outdir,
		tmpdir,
		cores: resources.cores,
		ram: resources.ram,
		outdirSize: resources.outdirSize,
		tmpdirSize: resources.tmpdirSize,
	};
	const plan: StagingPlan = { stageDir: `${jobDir}/stg`, outdir, actions: [], counter: 0 };
	let inputs = await stageInputs(completed, plan);
	const scope: Omit<ExpressionScope, "self" | "where"> = { ...base, inputs, runtime };
	const iwd = findRequirement(scopes, "InitialWorkDirRequirement");
	if (iwd?.listing !== undefined) {
		const moved = stageWorkDir(
			{
				listing: iwd.listing,
				scope,
				where,
				isInplace: findRequirement(scopes, "InplaceUpdateRequirement")?.inplaceUpdate === true,
				isV12: tool.cwlVersion === "v1.2",
				base: tool.baseUri,
				needsContainer: scopes.some((x) => x.requirements.some((r) => r.class === "DockerRequirement")),
			},
			plan,
		);
		inputs = await relocateInputs(inputs, moved);
	}
	const finalScope = { ...scope, inputs };
	const words = buildCommandLine(tool, inputs, finalScope, where);
	const stream = (field: "stdin" | "stdout" | "stderr"): string | undefined => {
		const raw = tool[field];
		if (raw === undefined) return undefined;
		const v = evaluate(raw, { ...finalScope, self: null, where: where(field) });
		if (typeof v !== "string" || v === "")
			throw new CwlRunError(`${where(field)}: must be a file name, got ${JSON.stringify(v)}`);
		if (field !== "stdin" && (v.startsWith("/") || v.split("/").includes("..")))
			throw new CwlRunError(`${where(field)}: ${v} must be a relative path inside the output directory`);
		return v;
	};
	const envDef = findRequirement(scopes, "EnvVarRequirement");
	const vars: Record<string, string> = {};
	const defs = envDef?.envDef;
	const entries = Array.isArray(defs)
		? (defs as Array<{ envName?: unknown; envValue?: unknown }>)
		: typeof defs === "object" && defs !== null
			? Object.entries(defs).map(([envName, envValue]) => ({ envName, envValue }))
			: [];
	for (const e of entries) {
		const value = evaluate(e.envValue, {
			...finalScope,
			self: null,
			where: where(`EnvVarRequirement.${String(e.envName)}`),
		});
		vars[String(e.envName)] = typeof value === "string" ? value : JSON.stringify(value);
	}
	const docker = findRequirement(scopes, "DockerRequirement");
	const image = (docker?.dockerPull ?? docker?.dockerImageId) as string | undefined;
	const dockerOut = docker?.dockerOutputDirectory;
	if (
		typeof dockerOut === "string" &&
		dockerOut !== outdir &&
		tool.requirements.some((r) => r.class === "DockerRequirement")
	) {
		throw new UnsupportedFeatureError(
			`${where("DockerRequirement.dockerOutputDirectory")}: Orrery runs tools in the workspace's own path; a fixed output directory (${dockerOut}) is not supported`,
		);
	}
	const isShell = findRequirement(scopes, "ShellCommandRequirement") !== undefined;
	const limit = findRequirement(scopes, "ToolTimeLimit");
	const timelimit = limit
		? Number(evaluate(limit.timelimit, { ...finalScope, self: null, where: where("ToolTimeLimit") }))
		: 0;
	if (!Number.isFinite(timelimit) || timelimit < 0)
		throw new CwlRunError(`${where("ToolTimeLimit.timelimit")}: must be 0 or more seconds, got ${timelimit}`);
	const stdinPath = stream("stdin");
	const stdout = stream("stdout");
	const stderr = stream("stderr");
	const command = renderJobScript({
		jobDir,
		outdir,
		tmpdir,
		stagedir: plan.stageDir,
		stage: plan.actions,
		env: vars,
		words,
		isShell,
		...(stdinPath !== undefined ? { stdin: stdinPath } : {}),
		...(stdout !== undefined ? { stdout } : {}),
		...(stderr !== undefined ? { stderr } : {}),
		successCodes: tool.successCodes,
		temporaryFailCodes: tool.temporaryFailCodes,
		permanentFailCodes: tool.permanentFailCodes,
	});
	const stepResources: StepResources = { cpus: resources.cores, memoryMiB: resources.ram };
	if (timelimit > 0) stepResources.timeLimitSeconds = timelimit;
	const request: JobRequest = {
		key,
		stepName,
		command,
		resources: stepResources,
		backendOptions: {},
		workdir: posix.relative(env.workspace, outdir),
		// The job's own folder first: the output and temporary folders inside it are then made at the first try.
		folders: [posix.relative(env.workspace, jobDir), posix.relative(env.workspace, tmpdir)],
	};
	if (image) request.image = image;
	// What it reads and where it writes, for CACHE=on: not for a tool that changes its inputs in place or
	// reaches the network (neither is seen in its files), nor one reading files outside the workspace.
	const reads = readPaths(completed, env.workspace);
	const isInplace = findRequirement(scopes, "InplaceUpdateRequirement")?.inplaceUpdate === true;
	const isNetworked = findRequirement(scopes, "NetworkAccess")?.networkAccess === true;
	if (reads && env.runId !== undefined && !isInplace && !isNetworked)
		request.reuse = {
			reads: [...reads].sort(),
			folder: posix.relative(env.workspace, jobDir),
			runFolder: posix.join(cwlWorkDir, env.runId),
			scratch: ["tmp", "stg"],
		};
	// temporaryFailCodes: the scheduler runs the tool again (twice at most) before the step fails.
	if (tool.temporaryFailCodes.length > 0) {
		request.retryExitCodes = tool.temporaryFailCodes;
		request.retries = 2;
	}
	return { key, tool, scopes, inputs, runtime: { ...runtime, outdir, tmpdir }, jobDir, request };
}

/**
 * The files and folders (relative to the workspace) an input object names, secondary files included;
 * undefined when one lies outside the workspace (its content could not be checked for a reuse).
 */
function readPaths(value: unknown, workspace: string, out = new Set<string>()): Set<string> | undefined {
	if (Array.isArray(value)) {
		for (const v of value) if (!readPaths(v, workspace, out)) return undefined;
		return out;
	}
	if (typeof value !== "object" || value === null) return out;
	if (isFileOrDirectory(value)) {
		const path = pathOfValue(value);
		if (path !== undefined) {
			const rel = posix.relative(workspace, path);
			if (rel === "" || rel === ".." || rel.startsWith("../") || posix.isAbsolute(rel)) return undefined;
			out.add(rel);
		} else if (Array.isArray(value.listing) && !readPaths(value.listing, workspace, out)) return undefined;
		return Array.isArray(value.secondaryFiles) ? readPaths(value.secondaryFiles, workspace, out) : out;
	}
	for (const v of Object.values(value)) if (!readPaths(v, workspace, out)) return undefined;
	return out;
}

interface Resources {
	cores: number;
	ram: number;
	outdirSize: number;
	tmpdirSize: number;
}

/** ResourceRequirement (hints included) with CWL's defaults; fractions round up. */
function resourcesOf(scopes: Scopes, scope: ExpressionScope): Resources {
	const req = findRequirement(scopes, "ResourceRequirement");
	const value = (field: string): number | undefined => {
		const raw = req?.[field];
		if (raw === undefined || raw === null) return undefined;
		const v = evaluate(raw, { ...scope, where: `${scope.where}.${field}` });
		const n = Number(v);
		if (!Number.isFinite(n) || n < 0)
			throw new CwlRunError(`${scope.where}.${field}: must be a number of 0 or more, got ${JSON.stringify(v)}`);
		return n;
	};
	const pick = (min: string, max: string, fallback: number) => Math.ceil(value(min) ?? value(max) ?? fallback);
	return {
		cores: pick("coresMin", "coresMax", 1),
		ram: pick("ramMin", "ramMax", 256),
		outdirSize: pick("outdirMin", "outdirMax", 1024),
		tmpdirSize: pick("tmpdirMin", "tmpdirMax", 1024),
	};
}
