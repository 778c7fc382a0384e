import { AppError } from "../../common/index.js";
import type { ReanaSpecification } from "../../contract/index.js";
import {
	type Parameters,
	type Problem,
	serialOptions,
	serialSteps,
	stepLabel,
	substituteParameters,
} from "../../spec/index.js";
import { latestByKey } from "../latest-jobs.js";
import type { EngineStep, JobRequest, JobView, RunState, StepResources, WorkflowEngine } from "../workflow-engine.js";

type Step = ReturnType<typeof serialSteps>[number];

/** One command of one step: the unit REANA runs as a job. */
interface Unit {
	key: string;
	stepIndex: number;
	step: Step;
	command: string;
}

/** The serial engine: steps in order, each command one job; the first failure fails the run. */
export const serialEngine: WorkflowEngine = {
	type: "serial",

	async validate({ spec, options }): Promise<Problem[]> {
		try {
			serialOptions(spec, options);
			return [];
		} catch (error) {
			if (error instanceof AppError) {
				return [{ severity: "error", file: "operational options", path: "", message: error.message, hint: "" }];
			}
			throw error;
		}
	},

	/** The serial spec file, when the specification was read from one (its steps are inline in the specification). */
	async workflowFiles({ spec }): Promise<string[]> {
		return spec.workflow.file ? [spec.workflow.file] : [];
	},

	async next(run: RunState): Promise<EngineStep> {
		const units = plannedUnits(run.spec, run.parameters, run.options);
		const isCached = serialOptions(run.spec, run.options).cache;
		const total = units.length;
		const latest = latestByKey(run.jobs);
		for (const unit of units) {
			const job = latest.get(unit.key);
			if (!job) return { kind: "submit", jobs: [toRequest(unit, isCached)], total };
			switch (job.status) {
				case "finished":
					continue;
				case "failed":
					return { kind: "failed", reason: failureReason(unit, job), total };
				case "stopped":
					return { kind: "failed", reason: `step ${stepLabel(unit.step, unit.stepIndex)} was stopped`, total };
				default:
					return { kind: "wait", total };
			}
		}
		return { kind: "done", total };
	},
};

/** The commands a run will execute, FROM and TARGET applied, parameters substituted. */
export function plannedUnits(
	spec: ReanaSpecification,
	parameters: Parameters,
	options: Record<string, unknown>,
): Unit[] {
	const steps = serialSteps(spec);
	const opts = serialOptions(spec, options);
	const first = opts.from === undefined ? 0 : steps.findIndex((s) => s.name === opts.from);
	const last = opts.target === undefined ? steps.length - 1 : steps.findIndex((s) => s.name === opts.target);
	const units: Unit[] = [];
	for (let i = first; i <= last; i++) {
		const step = steps[i] as Step;
		step.commands.forEach((command, j) => {
			units.push({ key: `s${i}.c${j}`, stepIndex: i, step, command: substituteParameters(command, parameters) });
		});
	}
	return units;
}

function toRequest(unit: Unit, isCached: boolean): JobRequest {
	const { step } = unit;
	const backendOptions: Record<string, unknown> = {};
	for (const [k, v] of Object.entries(step)) {
		if (
			/^(kubernetes|htcondor|slurm)_/.test(k) ||
			k === "unpacked_img" ||
			k === "kerberos" ||
			k === "voms_proxy" ||
			k === "rucio"
		) {
			backendOptions[k] = v;
		}
	}
	const request: JobRequest = {
		key: unit.key,
		stepName: step.name,
		command: unit.command,
		resources: stepResources(step),
		backendOptions,
	};
	if (step.environment !== undefined) request.image = step.environment;
	if (step.compute_backend !== undefined) request.backend = step.compute_backend;
	if (step.retries !== undefined) request.retries = step.retries;
	if (isCached) request.cacheable = true;
	return request;
}

/** Resources from REANA's step keys: memory limits and job timeouts in their backend-specific spellings. */
export function stepResources(step: Step): StepResources {
	const r: StepResources = {};
	if (step.kubernetes_job_timeout !== undefined) r.timeLimitSeconds = step.kubernetes_job_timeout;
	if (step.slurm_time !== undefined) {
		const s = slurmTimeToSeconds(step.slurm_time);
		if (s !== undefined) r.timeLimitSeconds = s;
	}
	if (step.htcondor_max_runtime !== undefined && /^\d+$/.test(step.htcondor_max_runtime)) {
		r.timeLimitSeconds = Number(step.htcondor_max_runtime);
	}
	if (step.kubernetes_memory_limit !== undefined) {
		const m = memoryToMiB(step.kubernetes_memory_limit);
		if (m !== undefined) r.memoryMiB = m;
	}
	if (step.kubernetes_cpu_request !== undefined) {
		const c = Number.parseFloat(step.kubernetes_cpu_request);
		if (Number.isFinite(c) && c > 0)
			r.cpus = step.kubernetes_cpu_request.endsWith("m") ? Math.ceil(c / 1000) : Math.ceil(c);
	}
	return r;
}

/** Slurm's time formats: minutes, MM:SS, HH:MM:SS, D-HH, D-HH:MM, D-HH:MM:SS. */
export function slurmTimeToSeconds(value: string): number | undefined {
	const m = /^(?:(\d+)-)?(\d+)(?::(\d+))?(?::(\d+))?$/.exec(value.trim());
	if (!m) return undefined;
	const [, d, a, b, c] = m;
	const days = Number(d ?? 0);
	if (d !== undefined) return days * 86400 + Number(a) * 3600 + Number(b ?? 0) * 60 + Number(c ?? 0);
	if (c !== undefined) return Number(a) * 3600 + Number(b) * 60 + Number(c);
	if (b !== undefined) return Number(a) * 60 + Number(b);
	return Number(a) * 60;
}

/** Kubernetes quantities (`2Gi`, `512Mi`, `1G`) in MiB. */
export function memoryToMiB(value: string): number | undefined {
	const m = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti|K|M|G|T)?$/.exec(value.trim());
	if (!m) return undefined;
	const n = Number(m[1]);
	const factor: Record<string, number> = {
		Ki: 1 / 1024,
		Mi: 1,
		Gi: 1024,
		Ti: 1024 * 1024,
		K: 1000 / 1048576,
		M: 1e6 / 1048576,
		G: 1e9 / 1048576,
		T: 1e12 / 1048576,
	};
	return Math.ceil(n * (m[2] ? (factor[m[2]] ?? 1) : 1 / 1048576));
}

function failureReason(unit: Unit, job: JobView): string {
	const head = `step ${stepLabel(unit.step, unit.stepIndex)} failed`;
	const code = job.exitCode === null ? "" : ` with exit code ${job.exitCode}`;
	return `${head}${code}${job.message ? `: ${job.message}` : ""}`;
}
