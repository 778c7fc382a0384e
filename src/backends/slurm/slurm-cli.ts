import { AppError } from "../../common/index.js";
import { type CommandResult, type CommandRunner, lastLine } from "../command-runner.js";
import { type SlurmJobSpec, sbatchArgs } from "./sbatch-script.js";
import { baseState, parseExitField, type SlurmRecord } from "./slurm-states.js";

/** How the Slurm backend talks to Slurm: the command-line tools, or slurmrestd. */
export interface SlurmTransport {
	/** Submits a batch script (stdin) and answers the Slurm job id (the array's id for arrays). */
	submit(script: string, spec: SlurmJobSpec, array?: { indexes: string; output: string }): Promise<string>;
	/** Every job and array task of the given base ids that the controller still holds, in one call. */
	queue(baseIds: readonly string[]): Promise<Map<string, SlurmRecord>>;
	/** Ended jobs from accounting, in one call (empty when accounting is off). */
	accounting(baseIds: readonly string[]): Promise<Map<string, SlurmRecord>>;
	/** The base id of a job (or array) with this name that Slurm knows, if any. */
	findByName(name: string): Promise<string | undefined>;
	/** Cancels jobs and array tasks in one call. */
	cancel(ids: readonly string[]): Promise<void>;
}

// Messages of sbatch that mean the request itself is wrong, not that Slurm is unreachable.
const userErrors =
	/invalid (partition|account|qos|generic resource|time limit|feature)|requested node configuration is not available|memory specification can not be satisfied|more processors requested than permitted|job violates accounting\/qos policy|batch job submission failed: (invalid|unable to allocate)/i;
const notFound = /invalid job id specified/i;

/** sbatch, squeue, sacct and scancel, run on the server or over SSH on a login node. */
export class SlurmCli implements SlurmTransport {
	private hasAccounting = true;

	constructor(private readonly runner: CommandRunner) {}

	async submit(script: string, spec: SlurmJobSpec, array?: { indexes: string; output: string }): Promise<string> {
		const result = await this.runner.run(sbatchArgs(spec, array), { input: script, startsJobs: true });
		if (result.exitCode !== 0) throw submitError(result);
		const id = result.stdout.trim().split(";")[0]?.trim() ?? "";
		if (!/^\d+$/.test(id)) {
			throw new AppError(
				"backend_unavailable",
				`sbatch answered something other than a job id: ${lastLine(result.stdout)}`,
			);
		}
		return id;
	}

	async queue(baseIds: readonly string[]): Promise<Map<string, SlurmRecord>> {
		if (baseIds.length === 0) return new Map();
		const result = await this.runner.run([
			"squeue",
			"--noheader",
			"--array",
			"--states=all",
			`--jobs=${baseIds.join(",")}`,
			"--format=%i|%T|%r|%S|%e",
		]);
		if (result.exitCode !== 0) {
			if (notFound.test(result.stderr)) return new Map(); // none of them is known any more
			throw unavailable("squeue", result);
		}
		const out = new Map<string, SlurmRecord>();
		for (const line of result.stdout.split("\n")) {
			const [id, state, reason, start, end] = line.trim().split("|");
			if (!id || !state) continue;
			out.set(id, record(id, state, reason, start, end));
		}
		return out;
	}

	async accounting(baseIds: readonly string[]): Promise<Map<string, SlurmRecord>> {
		const out = new Map<string, SlurmRecord>();
		if (baseIds.length === 0 || !this.hasAccounting) return out;
		const result = await this.runner.run([
			"sacct",
			"--noheader",
			"--parsable2",
			"--allocations",
			`--jobs=${baseIds.join(",")}`,
			"--format=JobID,State,ExitCode,Reason,Start,End",
		]);
		if (result.exitCode !== 0) {
			if (/accounting storage is disabled|slurmdbd/i.test(result.stderr)) {
				this.hasAccounting = false;
				return out;
			}
			throw unavailable("sacct", result);
		}
		for (const line of result.stdout.split("\n")) {
			const [id, state, exit, reason, start, end] = line.trim().split("|");
			if (!id || !state) continue;
			out.set(id, { ...record(id, state, reason, start, end), ...parseExitField(exit) });
		}
		return out;
	}

	async findByName(name: string): Promise<string | undefined> {
		const q = await this.runner.run(["squeue", "--noheader", "--states=all", `--name=${name}`, "--format=%F"]);
		if (q.exitCode !== 0) throw unavailable("squeue", q);
		const fromQueue = q.stdout.trim().split("\n")[0]?.trim();
		if (fromQueue) return fromQueue;
		if (!this.hasAccounting) return undefined;
		const a = await this.runner.run([
			"sacct",
			"--noheader",
			"--parsable2",
			"--allocations",
			`--name=${name}`,
			"--starttime=now-30days",
			"--format=JobID",
		]);
		if (a.exitCode !== 0) {
			if (/accounting storage is disabled|slurmdbd/i.test(a.stderr)) {
				this.hasAccounting = false;
				return undefined;
			}
			// Not knowing is not "never submitted": the job could be submitted twice.
			throw unavailable("sacct", a);
		}
		return a.stdout.trim().split("\n")[0]?.split("_")[0]?.trim() || undefined;
	}

	async cancel(ids: readonly string[]): Promise<void> {
		if (ids.length === 0) return;
		const result = await this.runner.run(["scancel", ...ids]);
		// scancel complains about jobs that already ended; that is not a failure to cancel.
		if (result.exitCode !== 0 && !/already completing or completed|invalid job id/i.test(result.stderr)) {
			throw unavailable("scancel", result);
		}
	}
}

function record(id: string, state: string, reason?: string, start?: string, end?: string): SlurmRecord {
	const r: SlurmRecord = { id, state: baseState(state) };
	if (reason && reason !== "None") r.reason = reason;
	const s = slurmDate(start);
	const e = slurmDate(end);
	if (s) r.startedAt = s;
	if (e) r.finishedAt = e;
	return r;
}

/** Slurm prints local times without a zone (`2026-01-02T03:04:05`), or N/A / Unknown / None. */
function slurmDate(text: string | undefined): Date | undefined {
	if (!text || !/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$/.test(text)) return undefined;
	const d = new Date(text);
	return Number.isNaN(d.getTime()) ? undefined : d;
}

function submitError(result: CommandResult): AppError {
	const message = lastLine(result.stderr) || lastLine(result.stdout);
	if (userErrors.test(message)) return new AppError("validation_failed", `Slurm refused the job: ${message}`);
	return new AppError("backend_unavailable", `sbatch failed: ${message}`);
}

function unavailable(tool: string, result: CommandResult): AppError {
	return new AppError("backend_unavailable", `${tool} failed (exit ${result.exitCode}): ${lastLine(result.stderr)}`);
}
