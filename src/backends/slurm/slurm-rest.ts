import { readFile } from "node:fs/promises";
import { AppError, messageOf } from "../../common/index.js";
import type { SlurmJobSpec } from "./sbatch-script.js";
import type { SlurmTransport } from "./slurm-cli.js";
import type { SlurmRestConfig } from "./slurm-config.js";
import { baseState, type SlurmRecord } from "./slurm-states.js";

interface RestJob {
	job_id?: number;
	name?: string;
	array_job_id?: number;
	array_task_id?: number | null;
	job_state?: string;
	array_task_string?: string;
	state_reason?: string;
	exit_code?: number;
	start_time?: number;
	end_time?: number;
}

interface RestAnswer {
	errors?: Array<{ error?: string; error_code?: number; description?: string }>;
	jobs?: RestJob[];
	job_id?: number;
}

// Task ids at or above this are Slurm's NO_VAL: the job is not an array task.
const noVal = 0xfffffff0;

/**
 * slurmrestd (tested against v0.0.38 of Slurm 22.05): submit, list and cancel over HTTP with a JWT.
 * Exit codes come from the job folder: v0.0.38's `exit_code` is a raw wait status and slurmdb's
 * `return_code` is 0 for failed jobs, so neither is trusted for the command's own status.
 */
export class SlurmRest implements SlurmTransport {
	/** HTTP requests made so far. */
	requestsIssued = 0;

	constructor(private readonly config: SlurmRestConfig) {}

	async submit(script: string, spec: SlurmJobSpec, array?: { indexes: string; output: string }): Promise<string> {
		const job: Record<string, unknown> = {
			name: spec.name,
			current_working_directory: spec.chdir,
			standard_output: array?.output ?? spec.output,
			standard_error: array?.output ?? spec.output,
			open_mode: "append",
			requeue: false,
			environment: { PATH: "/usr/local/bin:/usr/bin:/bin" },
		};
		if (array) job.array = array.indexes;
		if (spec.partition) job.partition = spec.partition;
		if (spec.account) job.account = spec.account;
		if (spec.qos) job.qos = spec.qos;
		if (spec.timeMinutes !== undefined) job.time_limit = spec.timeMinutes;
		if (spec.cpus !== undefined) job.cpus_per_task = spec.cpus;
		if (spec.memoryMiB !== undefined) job.memory_per_node = spec.memoryMiB;
		if (spec.gpus !== undefined) job.gres = `gpu:${spec.gpus}`;
		const answer = await this.call("POST", "slurm", "job/submit", { job, script });
		if (answer.job_id === undefined) throw new AppError("backend_unavailable", "slurmrestd accepted no job");
		return String(answer.job_id);
	}

	async queue(baseIds: readonly string[]): Promise<Map<string, SlurmRecord>> {
		const wanted = new Set(baseIds);
		const out = new Map<string, SlurmRecord>();
		if (wanted.size === 0) return out;
		const answer = await this.call("GET", "slurm", "jobs");
		for (const j of answer.jobs ?? []) {
			const id = restId(j);
			if (!id || !wanted.has(id.split("_")[0] as string)) continue;
			// Pending array tasks come as one record listing their indexes ("3-12%2").
			const pendingTasks = id.includes("_") ? [] : taskIndexes(j.array_task_string ?? "");
			if (pendingTasks.length === 0) out.set(id, restRecord(id, j));
			for (const index of pendingTasks) out.set(`${id}_${index}`, restRecord(`${id}_${index}`, j));
		}
		return out;
	}

	async accounting(baseIds: readonly string[]): Promise<Map<string, SlurmRecord>> {
		const out = new Map<string, SlurmRecord>();
		for (const base of baseIds) {
			let answer: RestAnswer;
			try {
				answer = await this.call("GET", "slurmdb", `job/${base}`);
			} catch {
				continue; // accounting off or the job unknown there
			}
			for (const j of (answer.jobs ?? []) as Array<Record<string, unknown>>) {
				const array = j.array as { job_id?: number; task_id?: number } | undefined;
				const id =
					array?.job_id && typeof array.task_id === "number" && array.task_id < noVal
						? `${array.job_id}_${array.task_id}`
						: String(j.job_id);
				const state = (j.state as { current?: string } | undefined)?.current ?? "UNKNOWN";
				out.set(id, { id, state: baseState(state) });
			}
		}
		return out;
	}

	async findByName(name: string): Promise<string | undefined> {
		const answer = await this.call("GET", "slurm", "jobs");
		const j = (answer.jobs ?? []).find((x) => x.name === name);
		if (!j) return undefined;
		return String(j.array_job_id && j.array_job_id > 0 ? j.array_job_id : j.job_id);
	}

	async cancel(ids: readonly string[]): Promise<void> {
		for (const id of ids) {
			try {
				await this.call("DELETE", "slurm", `job/${id}`);
			} catch (error) {
				if (!/invalid job id|already completing|completed/i.test(messageOf(error))) throw error;
			}
		}
	}

	private async call(method: string, api: "slurm" | "slurmdb", path: string, body?: unknown): Promise<RestAnswer> {
		const url = `${this.config.url.replace(/\/+$/, "")}/${api}/${this.config.apiVersion}/${path}`;
		const token = this.config.tokenFile
			? (await readFile(this.config.tokenFile, "utf8")).trim()
			: (this.config.token ?? "");
		this.requestsIssued++;
		let response: Response;
		try {
			response = await fetch(url, {
				method,
				headers: {
					"X-SLURM-USER-NAME": this.config.user,
					"X-SLURM-USER-TOKEN": token,
					...(body === undefined ? {} : { "Content-Type": "application/json" }),
				},
				...(body === undefined ? {} : { body: JSON.stringify(body) }),
				signal: AbortSignal.timeout(60_000),
			});
		} catch (error) {
			throw new AppError(
				"backend_unavailable",
				`slurmrestd at ${this.config.url} is unreachable: ${messageOf(error)}`,
				{
					cause: error,
				},
			);
		}
		if (response.status === 401 || response.status === 403) {
			throw new AppError(
				"backend_unavailable",
				`slurmrestd refused the token for ${this.config.user} (HTTP ${response.status})`,
			);
		}
		const answer = (await response.json().catch(() => ({}))) as RestAnswer;
		const errors = (answer.errors ?? []).filter((e) => e.error_code !== 0 && (e.error || e.description));
		if (!response.ok || errors.length > 0) {
			const text = errors.map((e) => e.error ?? e.description).join("; ") || `HTTP ${response.status}`;
			const isUserError = method === "POST" && /invalid|not available|violates|can not be satisfied/i.test(text);
			throw new AppError(isUserError ? "validation_failed" : "backend_unavailable", `slurmrestd: ${text}`);
		}
		return answer;
	}
}

function restId(j: RestJob): string | undefined {
	if (j.job_id === undefined) return undefined;
	if (j.array_job_id && typeof j.array_task_id === "number" && j.array_task_id < noVal) {
		return `${j.array_job_id}_${j.array_task_id}`;
	}
	return String(j.job_id);
}

function restRecord(id: string, j: RestJob): SlurmRecord {
	const r: SlurmRecord = { id, state: baseState(j.job_state ?? "UNKNOWN") };
	if (j.state_reason && j.state_reason !== "None") r.reason = j.state_reason;
	// A raw wait status: the exit code sits in the high byte, a signal in the low bits.
	if (j.exit_code !== undefined) {
		r.exitCode = j.exit_code >> 8;
		if (j.exit_code & 0x7f) r.signal = j.exit_code & 0x7f;
	}
	if (j.start_time) r.startedAt = new Date(j.start_time * 1000);
	if (j.end_time && r.state !== "RUNNING" && r.state !== "PENDING") r.finishedAt = new Date(j.end_time * 1000);
	return r;
}

/** The indexes of Slurm's array task string (`1-3,7,9-12:2%4`). */
export function taskIndexes(text: string): number[] {
	const out: number[] = [];
	for (const part of text.split("%")[0]?.split(",") ?? []) {
		const m = /^(\d+)(?:-(\d+)(?::(\d+))?)?$/.exec(part.trim());
		if (!m) continue;
		const from = Number(m[1]);
		const to = m[2] === undefined ? from : Number(m[2]);
		const step = m[3] === undefined ? 1 : Math.max(1, Number(m[3]));
		for (let i = from; i <= to && out.length < 100_000; i += step) out.push(i);
	}
	return out;
}
