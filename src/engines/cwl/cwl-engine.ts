import { posix } from "node:path";
import { isAppError } from "../../common/index.js";
import {
	isCacheRequested,
	lastSegment,
	type Problem,
	placeOutputs,
	SpecError,
	withoutFragment,
} from "../../spec/index.js";
import { linkInWorkspace, workspaceFiles } from "../../storage/index.js";
import type { EngineStep, JobView, RunState, ValidationInput, WorkflowEngine } from "../workflow-engine.js";
import { defaultExpressionTimeoutMs } from "./expression-evaluator.js";
import { type FileValue, isFileOrDirectory, mapFileValues, pathOfValue } from "./file-values.js";
import { exitCodeFile } from "./job-script.js";
import { collectOutputs } from "./output-collector.js";
import { type CollectedJob, type RunMemory, runProcess, type Tick } from "./process-runner.js";
import { type RunEnvironment, runEnvironment } from "./run-environment.js";
import { documentPaths, loadRun, parameterNames } from "./run-loader.js";
import { cwlWorkDir } from "./tool-invocation.js";
import { runWorkflow } from "./workflow-runner.js";

/** Settings of the CWL engine. */
export interface CwlEngineConfig {
	/** How long one JavaScript expression may run. */
	expressionTimeoutMs?: number;
	/** How many runs' decisions are kept in memory (they are recomputed when evicted). */
	cachedRuns?: number;
}

interface Cached {
	memory: RunMemory;
	env: RunEnvironment;
	latest?: LatestJobs;
}

/**
 * The latest attempt of each job key, kept between decisions: the scheduler's job views are the same
 * objects from tick to tick (updated in place) and new jobs are appended, so only views added since
 * the last decision need looking at. A list that is not a continuation (a restarted server) is read
 * afresh.
 */
interface LatestJobs {
	byKey: Map<string, JobView>;
	seen: number;
	first: JobView | undefined;
}

/**
 * Creates the native CWL v1.2 engine. Each CommandLineTool invocation is one job; ExpressionTools and
 * expressions run in-process. Decisions follow from the documents and the recorded job results only,
 * so a restarted server recomputes the same plan and continues without re-running finished jobs.
 */
export function createCwlEngine(config: CwlEngineConfig = {}): WorkflowEngine {
	const timeoutMs = config.expressionTimeoutMs ?? defaultExpressionTimeoutMs;
	const cache = new Map<string, Cached>();
	const limit = config.cachedRuns ?? 20;

	const remember = async (run: RunState): Promise<Cached> => {
		const hit = cache.get(run.workflowId);
		if (hit) {
			cache.delete(run.workflowId);
			cache.set(run.workflowId, hit);
			return hit;
		}
		const env = runEnvironment(workspaceFiles(run.workspace.path), timeoutMs, run.workflowId);
		const loaded = await loadRun(run.spec, run.parameters, env);
		const entry: Cached = {
			env,
			memory: {
				root: loaded.root,
				inputs: loaded.inputs,
				inputBase: loaded.inputBase,
				invocations: new Map(),
				finished: new Map(),
				scatters: new Map(),
			},
		};
		cache.set(run.workflowId, entry);
		while (cache.size > limit) cache.delete(cache.keys().next().value as string);
		return entry;
	};

	const decide = async (run: RunState, entry: Cached) => {
		const tick: Tick = {
			env: entry.env,
			memory: entry.memory,
			jobs: latestJobs(entry, run.jobs),
			submit: [],
			runWorkflow,
		};
		const root = entry.memory.root;
		const name =
			root.class === "Workflow" ? "main" : lastSegment(withoutFragment(root.id)).replace(/\.cwl$/, "") || "main";
		const outcome = await runProcess(root, entry.memory.inputs, "", name, [], tick, true);
		return { outcome, submit: tick.submit, total: Math.max(entry.memory.invocations.size, run.jobs.length) };
	};

	return {
		type: "cwl",

		async validate(input: ValidationInput): Promise<Problem[]> {
			try {
				isCacheRequested(input.options);
			} catch (error) {
				if (!isAppError(error)) throw error;
				return [{ severity: "error", file: "operational options", path: "", message: error.message, hint: "" }];
			}
			try {
				const env = runEnvironment(workspaceFiles(input.workspace.path), timeoutMs);
				const loaded = await loadRun(input.spec, input.parameters, env);
				return loaded.warnings;
			} catch (error) {
				return problemsOf(error);
			}
		},

		async parameterNames(input: ValidationInput): Promise<string[]> {
			try {
				return await parameterNames(
					input.spec,
					input.parameters,
					runEnvironment(workspaceFiles(input.workspace.path), timeoutMs),
				);
			} catch {
				// A document that does not load: validate says why.
				return Object.keys(input.parameters);
			}
		},

		async workflowFiles(input: ValidationInput): Promise<string[]> {
			const ws = input.workspace.path;
			const read = await documentPaths(input.spec, runEnvironment(workspaceFiles(ws), timeoutMs));
			return read
				.map((p) => posix.relative(ws, p))
				.filter((p) => p !== "" && p !== ".." && !p.startsWith("../") && !posix.isAbsolute(p));
		},

		async next(run: RunState): Promise<EngineStep> {
			let entry: Cached;
			try {
				entry = await remember(run);
			} catch (error) {
				if (isAppError(error)) return { kind: "failed", reason: error.message };
				throw error;
			}
			const { outcome, submit, total } = await decide(run, entry);
			// Jobs say what they read and write; an earlier job's folder is reused only with CACHE=on.
			if (!isCacheRequested(run.options)) for (const job of submit) delete job.reuse;
			switch (outcome.state) {
				case "done":
					cache.delete(run.workflowId);
					return { kind: "done", outputs: await publish(outcome.outputs, entry.env.workspace), total };
				case "failed":
					// Kept: the scheduler asks again until the jobs still running have ended.
					return { kind: "failed", reason: outcome.reason, total };
				default:
					return submit.length > 0 ? { kind: "submit", jobs: submit, total } : { kind: "wait", total };
			}
		},

		// The run's job folders (`jobDirFor`); restarts have their own beside them.
		runFolders: (runId: string) => [posix.join(cwlWorkDir, runId)],

		async collect(run: RunState, job: JobView): Promise<CollectedJob> {
			let entry: Cached;
			try {
				entry = await remember(run);
			} catch (error) {
				if (isAppError(error)) return { error: error.message };
				throw error;
			}
			let inv = entry.memory.invocations.get(job.key);
			if (!inv) {
				await decide(run, entry);
				inv = entry.memory.invocations.get(job.key);
			}
			if (!inv) return { error: `the job ${job.key} is not part of this workflow any more` };
			// With CWL's default codes the job's exit code is the tool's own; otherwise the script recorded it.
			const codes =
				inv.tool.successCodes.length + inv.tool.temporaryFailCodes.length + inv.tool.permanentFailCodes.length;
			const text =
				codes === 0
					? String(job.exitCode ?? 0)
					: await entry.env.files.readText(`${inv.jobDir}/${exitCodeFile}`).catch(() => "0");
			const exitCode = Number.parseInt(text.trim(), 10) || 0;
			try {
				// One view for the collection: each path is checked and stat'ed once, however often it is asked for.
				const env = { ...entry.env, files: entry.env.files.once() };
				return { exitCode, outputs: await collectOutputs(inv, exitCode, env) };
			} catch (error) {
				if (isAppError(error)) return { exitCode, error: error.message };
				throw error;
			}
		},
	};
}

/** The CWL engine with default settings. */
export const cwlEngine: WorkflowEngine = createCwlEngine();

function latestJobs(entry: Cached, jobs: readonly JobView[]): Map<string, JobView> {
	let latest = entry.latest;
	if (!latest || latest.first !== jobs[0] || latest.seen > jobs.length) {
		latest = { byKey: new Map(), seen: 0, first: jobs[0] };
		entry.latest = latest;
	}
	for (let i = latest.seen; i < jobs.length; i++) {
		const j = jobs[i] as JobView;
		const prev = latest.byKey.get(j.key);
		if (!prev || j.attempt > prev.attempt) latest.byKey.set(j.key, j);
	}
	latest.seen = jobs.length;
	return latest.byKey;
}

/**
 * The run's output object, its files placed in the workspace's `outputs/` folder as REANA's CWL
 * engine leaves them (cwltool's `--outdir`: by basename, a taken name in a numbered subfolder), so
 * that a reana.yaml's `outputs.files: [outputs/plot.png]` and `reana-client download` find them.
 * They are hard links to the jobs' own files (no copy; the jobs' outputs stay valid for reuse), a
 * copy where the filesystem cannot link. Afterwards `outputs/` holds this output object only (and
 * input files passed through from there): what a restarted run's parent, or an earlier placement,
 * left there is removed. Locations are relative to the workspace. Placing again (a retried
 * decision) gives the same result.
 */
async function publish(outputs: Record<string, unknown>, workspace: string): Promise<unknown> {
	const dir = posix.join(workspace, "outputs");
	// A File not on this machine (a remote input passed through) keeps its location.
	const isLocal = (f: Record<string, unknown>) =>
		f.class === "Directory" || pathOfValue(f as FileValue) !== undefined || f.location === undefined;
	const placed = placeOutputs(outputs, dir, (target) => posix.relative(workspace, target), isLocal);
	const links: Array<{ from: string; target: string }> = [];
	for (const { source, target } of placed.files) {
		const from = pathOfValue(source as FileValue);
		if (from !== undefined) links.push({ from, target });
	}
	await linkInWorkspace(workspace, {
		folders: [dir, ...placed.folders],
		literals: placed.literals,
		links,
		exclusiveFolder: dir,
	});
	return mapFileValues(placed.value, async (f) => {
		if (!isFileOrDirectory(f)) return f;
		const { path: _path, dirname: _dirname, ...rest } = f;
		return rest;
	});
}

/** Problems from a failed load: a SpecError's own, or one built from `file:line: message`. */
function problemsOf(error: unknown): Problem[] {
	if (error instanceof SpecError) return error.problems;
	if (!isAppError(error)) throw error;
	const m = /^([^\s:]+):(\d+): ([\s\S]*)$/.exec(error.message);
	if (m)
		return [
			{ severity: "error", file: m[1] as string, line: Number(m[2]), path: "", message: m[3] as string, hint: "" },
		];
	const n = /^([^\s:]+): ([\s\S]*)$/.exec(error.message);
	if (n) return [{ severity: "error", file: n[1] as string, path: "", message: n[2] as string, hint: "" }];
	return [{ severity: "error", file: "workflow", path: "", message: error.message, hint: "" }];
}
