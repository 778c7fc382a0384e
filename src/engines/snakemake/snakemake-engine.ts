import { createHash } from "node:crypto";
import { posix } from "node:path";
import { isAppError } from "../../common/index.js";
import type { ReanaSpecification } from "../../contract/index.js";
import { cwlParameterFile, type Parameters, type Problem, parseCwlText } from "../../spec/index.js";
import { shQuote } from "../cwl/job-script.js";
import { latestByKey } from "../latest-jobs.js";
import type {
	EngineStep,
	JobRequest,
	JobView,
	RunState,
	ValidationInput,
	WorkflowEngine,
	WorkspaceView,
} from "../workflow-engine.js";
import { planSnakemake, type SnakemakeJob } from "./snakemake-plan.js";

/**
 * A run's plan, kept while it runs: Snakemake plans every job forced, so a new plan is the same one.
 * `settled` once the planning ended, well or not.
 */
const plans = new Map<string, { plan: Promise<Plan>; settled: boolean }>();
/**
 * Plans kept at most (the least recently used go first, and are made again if their run goes on): a
 * stopped or deleted run is never asked again, and its plan would otherwise stay for good.
 */
const keptPlans = 50;

/** A run's DAG, and how its jobs call Snakemake (rules that run Python in Snakemake's own process). */
interface Plan {
	jobs: SnakemakeJob[];
	snakefile: string;
	/** The whole config: the files' values and those given over them. */
	config: Record<string, unknown>;
}

/**
 * Snakemake workflows (`workflow.type: snakemake`): Snakemake itself (the host's) reads the Snakefile
 * and its config and plans the DAG; each job of a rule is one Orrery job, on any backend, in the
 * rule's `container:` image when it names one, started once the jobs whose outputs it reads have
 * finished. The config is the file `workflow.parameters.file` or `inputs.parameters.input` names, the
 * other parameters over it (as `--config`).
 */
export const snakemakeEngine: WorkflowEngine = {
	type: "snakemake",

	async validate(input: ValidationInput): Promise<Problem[]> {
		try {
			await plan(input.spec, input.parameters, input.workspace);
			return [];
		} catch (error) {
			if (!isAppError(error)) throw error;
			// Remote inputs are staged after the start, before the first job: the plan is made then.
			if ((input.spec.inputs?.remote?.length ?? 0) > 0 && /MissingInputException/.test(error.message)) return [];
			const line = (error.details as { line?: number } | undefined)?.line;
			const file = input.spec.workflow.file ?? "Snakefile";
			const message = error.message.startsWith(`${file}`)
				? error.message.slice(file.length).replace(/^(?::\d+)?: /, "")
				: error.message;
			return [{ ...problem(input.spec, message, ""), ...(line === undefined ? {} : { line }) }];
		}
	},

	/** Parameters given at start (`-p`) may set any top-level value of the config, and those the specification declares. */
	async parameterNames(input: ValidationInput): Promise<string[]> {
		const file = cwlParameterFile(input.spec, input.parameters);
		const names = Object.keys(file?.rest ?? input.parameters);
		if (file === undefined || !(await input.workspace.exists(file.path))) return names;
		try {
			const config = parseCwlText(await input.workspace.readText(file.path), file.path);
			if (config && typeof config === "object" && !Array.isArray(config)) names.push(...Object.keys(config));
		} catch {
			// validate says what is wrong with it
		}
		return names;
	},

	/** The Snakefile (files it `include:`s are not known to Orrery: Snakemake reads them itself). */
	async workflowFiles({ spec }): Promise<string[]> {
		return [spec.workflow.file ?? "Snakefile"];
	},

	async next(run: RunState): Promise<EngineStep> {
		let current: Plan;
		try {
			let pending = plans.get(run.workflowId);
			if (pending) {
				plans.delete(run.workflowId);
				plans.set(run.workflowId, pending);
			} else {
				const entry = { plan: plan(run.spec, run.parameters, run.workspace), settled: false };
				plans.set(run.workflowId, entry);
				while (plans.size > keptPlans) plans.delete(plans.keys().next().value as string);
				pending = entry;
				// Planning runs Snakemake (a second or more): the scheduler goes on with other runs meanwhile.
				if (run.wake) {
					const wake = run.wake;
					entry.plan.then(
						() => {
							entry.settled = true;
							wake();
						},
						() => {
							entry.settled = true;
							wake();
						},
					);
					return { kind: "wait" };
				}
			}
			if (!pending.settled && run.wake) return { kind: "wait" };
			current = await pending.plan;
		} catch (error) {
			plans.delete(run.workflowId);
			if (isAppError(error)) return { kind: "failed", reason: error.message };
			throw error;
		}
		const jobs = current.jobs;
		const work = jobs.filter(isWork);
		const total = work.length;
		const latest = latestByKey(run.jobs);
		const byId = new Map(jobs.map((j) => [j.jobid, j]));
		const isDone = (j: SnakemakeJob): boolean =>
			!isWork(j)
				? j.deps.every((d) => isDone(byId.get(d) as SnakemakeJob))
				: latest.get(keyOf(j))?.status === "finished";
		const submit: JobRequest[] = [];
		let isActive = false;
		let failure: string | undefined;
		for (const j of work) {
			const job = latest.get(keyOf(j));
			if (job) {
				if (job.status === "failed" || job.status === "stopped") failure ??= failureReason(j, job);
				else if (job.status !== "finished") isActive = true;
				continue;
			}
			if (j.deps.every((d) => isDone(byId.get(d) as SnakemakeJob))) submit.push(toRequest(j, current));
		}
		if (failure !== undefined) {
			// What runs goes on to its end; nothing new starts.
			if (isActive) return { kind: "wait", total };
			plans.delete(run.workflowId);
			return { kind: "failed", reason: failure, total };
		}
		if (submit.length > 0) return { kind: "submit", jobs: submit, total };
		if (isActive) return { kind: "wait", total };
		plans.delete(run.workflowId);
		return { kind: "done", total };
	},
};

async function plan(spec: ReanaSpecification, parameters: Parameters, workspace: WorkspaceView): Promise<Plan> {
	const snakefile = spec.workflow.file ?? "Snakefile";
	const file = cwlParameterFile(spec, parameters);
	const configFiles: string[] = [];
	let config: Record<string, unknown> = { ...parameters };
	if (file !== undefined) {
		// reana-client sends the config file's values as the parameters: without the file, they are the config.
		if (await workspace.exists(file.path)) configFiles.push(posix.normalize(file.path));
		config = file.rest;
	}
	const normalised = posix.normalize(snakefile);
	const planned = await planSnakemake({ snakefile: normalised, workdir: workspace.path, configFiles, config });
	return { jobs: planned.jobs, snakefile: normalised, config: planned.config };
}

/** A job to run: a shell command, or a rule with outputs that runs Python; `all`-like rules only gather. */
function isWork(j: SnakemakeJob): boolean {
	return j.isShell || j.output.length > 0;
}

/**
 * The command of a rule that runs Python in Snakemake's own process (`run:`, `script:`, `notebook:`,
 * `wrapper:`): Snakemake itself runs that one job (its outputs forced, no other rule allowed), so it
 * must be installed where the job runs (the server's host for the local backend, or the rule's image).
 */
function snakemakeCommand(j: SnakemakeJob, p: Plan): string {
	// The whole config as JSON in a file of the job's own (--config would turn values into text).
	const config = JSON.stringify(p.config);
	const args = [
		"snakemake",
		"--snakefile",
		p.snakefile,
		"--directory",
		".",
		"--cores",
		String(j.threads),
		"--nolock",
		"--force",
		"--notemp",
		"--quiet",
		"--nocolor",
		"--allowed-rules",
		j.rule,
	]
		.map(shQuote)
		.join(" ");
	return [
		'config=$(mktemp "${TMPDIR:-/tmp}/orrery-snakemake-config.XXXXXX")',
		"trap 'rm -f \"$config\"' EXIT",
		`cat > "$config" <<'ORRERY_SNAKEMAKE_CONFIG'\n${config}\nORRERY_SNAKEMAKE_CONFIG`,
		`${args} --configfile "$config" -- ${j.output.map(shQuote).join(" ")}`,
	].join("\n");
}

/** The same job always has the same key: its rule and its outputs. */
function keyOf(j: SnakemakeJob): string {
	const outputs = j.output.join(" ");
	return outputs.length <= 200
		? `${j.rule}:${outputs}`
		: `${j.rule}:#${createHash("sha256").update(outputs).digest("hex").slice(0, 32)}`;
}

function labelOf(j: SnakemakeJob): string {
	const w = Object.entries(j.wildcards);
	return w.length === 0 ? j.rule : `${j.rule} (${w.map(([k, v]) => `${k}=${v}`).join(", ")})`;
}

function toRequest(j: SnakemakeJob, p: Plan): JobRequest {
	// As Snakemake runs a job: bash in strict mode, in the working directory; outputs left by an earlier
	// attempt removed and the folders of its outputs and logs made first; touch() outputs touched after;
	// every output checked to exist at the end.
	const inWorkspace = (f: string) =>
		!posix.isAbsolute(f) && !posix.normalize(f).startsWith("..") && posix.normalize(f) !== ".";
	const folders = [...new Set([...j.output, ...j.log].map((f) => posix.dirname(f)).filter((d) => d !== "."))];
	const stale = j.output.filter(inWorkspace);
	const lines = [
		...(stale.length > 0 && j.isShell ? [`rm -rf -- ${stale.map(shQuote).join(" ")}`] : []),
		...(folders.length > 0 ? [`mkdir -p -- ${folders.map(shQuote).join(" ")}`] : []),
		j.isShell ? (j.shell ?? "") : snakemakeCommand(j, p),
		...(j.touch.length > 0 && j.isShell ? [`touch -- ${j.touch.map(shQuote).join(" ")}`] : []),
		...j.output.map(
			(f) => `test -e ${shQuote(f)} || { echo ${shQuote(`rule ${j.rule}: missing output ${f}`)} >&2; exit 1; }`,
		),
	];
	const script = lines.join("\n");
	const request: JobRequest = {
		key: keyOf(j),
		stepName: labelOf(j),
		command: `bash -euo pipefail -c ${shQuote(script)}`,
		resources: {
			...(j.threads > 1 ? { cpus: j.threads } : {}),
			...(j.memMb !== null ? { memoryMiB: Math.ceil((j.memMb * 1e6) / 1048576) } : {}),
			...(j.runtimeMinutes !== null ? { timeLimitSeconds: Math.ceil(j.runtimeMinutes * 60) } : {}),
		},
		backendOptions: {},
	};
	if (j.container) request.image = j.container.replace(/^docker:\/\//, "");
	return request;
}

function failureReason(j: SnakemakeJob, job: JobView): string {
	if (job.status === "stopped") return `rule ${labelOf(j)} was stopped`;
	const code = job.exitCode === null ? "" : ` with exit code ${job.exitCode}`;
	return `rule ${labelOf(j)} failed${code}${job.message ? `: ${job.message}` : ""}`;
}

function problem(spec: ReanaSpecification, message: string, hint: string): Problem {
	return { severity: "error", file: spec.workflow.file ?? "Snakefile", path: "", message, hint };
}
