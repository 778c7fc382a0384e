import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { AppError, isAppError, messageOf, readRegularFile } from "../../common/index.js";
import { type CommandResult, CommandRunner, isOnPath, lastLine } from "../command-runner.js";
import type {
	BackendCapabilities,
	BackendJob,
	ComputeBackend,
	JobIdentity,
	JobObservation,
	Submission,
} from "../compute-backend.js";
import { lockLosers, readJobFolder, readLockHolder, removeJobSecrets, writeJobScripts } from "../job-folder.js";
import {
	type CondorAd,
	condorAttributes,
	condorId,
	isHeld,
	observeCondorJob,
	parseCondorJson,
} from "./condor-states.js";
import type { HtcondorConfig } from "./htcondor-config.js";
import { dropSnapshot, publishReturnedOutputs } from "./returned-outputs.js";
import {
	type CondorJobSpec,
	condorJobSpec,
	isListSafe,
	runsImage,
	submitDescription,
	tokenFileOf,
} from "./submit-description.js";
import { prepareTransferJob, snapshotWorkspaces } from "./workspace-snapshot.js";

const idFile = "condor-id";
const submittedFile = "condor-submitted";

/**
 * Runs jobs on an HTCondor pool (or Compute4PUNCH): condor_submit with a generated description,
 * one condor_q (+ condor_history for jobs that left the queue) per poll, condor_rm to cancel; on the
 * pool's submit host over SSH when configured. Jobs see the workspace on a shared filesystem, or
 * (`fileTransfer: transfer`) get it as a tar and send their changes back, which a poll moves into
 * the workspace before it reports the job's exit.
 */
export class HtcondorBackend implements ComputeBackend {
	readonly name = "htcondor";
	readonly capabilities: BackendCapabilities;
	/** Runs condor_* tools; `commandsIssued` counts them. */
	readonly runner: CommandRunner;
	private readonly isTransfer: boolean;
	// Publications of returned outputs under way, by job folder: overlapping polls wait for the same one.
	private readonly publishing = new Map<string, Promise<boolean>>();

	constructor(
		private readonly config: HtcondorConfig,
		runner?: CommandRunner,
	) {
		this.runner =
			runner ?? new CommandRunner({ ...(config.ssh ? { ssh: config.ssh } : {}), timeoutMs: config.commandTimeoutMs });
		this.isTransfer = config.fileTransfer === "transfer";
		this.capabilities = {
			sharedFilesystem: !this.isTransfer,
			notifiesChanges: false,
			pollIntervalMs: config.pollIntervalMs,
			maxActiveJobs: config.maxActiveJobs,
			containerRuntime:
				config.flavour === "compute4punch" ? "apptainer" : config.containerUniverse ? "container universe" : null,
			enforcesTimeLimit: true,
		};
	}

	/** Creates the backend, checking that the condor tools are there (on the server, unless `ssh` is set). */
	static async create(config: HtcondorConfig): Promise<HtcondorBackend> {
		if (!config.ssh && !(await isOnPath("condor_submit"))) {
			throw new AppError(
				"backend_unavailable",
				"htcondor: condor_submit is not on PATH (install HTCondor's tools or set `ssh`)",
			);
		}
		return new HtcondorBackend(config);
	}

	/** The argv of a condor tool, with the schedd/pool and bearer token settings. */
	command(tool: string, args: readonly string[], tokenFile = this.config.bearerToken?.file): string[] {
		const argv = tokenFile ? ["env", `BEARER_TOKEN_FILE=${tokenFile}`, tool] : [tool];
		if (this.config.schedd) argv.push("-name", this.config.schedd);
		if (this.config.pool) argv.push("-pool", this.config.pool);
		return [...argv, ...args];
	}

	async submit(job: BackendJob): Promise<Submission> {
		return (await this.submitMany([job]))[0] as Submission;
	}

	/** Submits jobs with equal settings as one cluster (`queue … from`). */
	async submitBatch(jobs: readonly BackendJob[]): Promise<Submission[]> {
		const results: Submission[] = new Array(jobs.length);
		const groups = new Map<string, number[]>();
		jobs.forEach((job, i) => {
			const key = JSON.stringify([condorJobSpec(job, this.config), this.userToken(job) !== undefined ? job.id : ""]);
			groups.set(key, [...(groups.get(key) ?? []), i]);
		});
		for (const indexes of groups.values()) {
			const safe = indexes.every((i) => isListSafe((jobs[i] as BackendJob).jobDir));
			const chunks = indexes.length >= this.config.batchThreshold && safe ? [indexes] : indexes.map((i) => [i]);
			for (const chunk of chunks) {
				const subs = await this.submitMany(chunk.map((i) => jobs[i] as BackendJob));
				chunk.forEach((i, k) => {
					results[i] = subs[k] as Submission;
				});
			}
		}
		return results;
	}

	private async submitMany(jobs: readonly BackendJob[]): Promise<Submission[]> {
		const spec = condorJobSpec(jobs[0] as BackendJob, this.config);
		const known = await Promise.all(jobs.map((j) => this.priorSubmission(j)));
		const fresh = jobs.filter((_, i) => known[i] === undefined);
		if (fresh.length > 0) {
			const cluster = await this.submitFresh(fresh, spec);
			await Promise.all(
				fresh.map(async (job, k) => {
					const id = `${cluster}.${k}`;
					await writeFile(join(job.jobDir, idFile), `${id}\n`);
					known[jobs.indexOf(job)] = id;
				}),
			);
		}
		const image = runsImage(spec, this.config);
		return jobs.map((job, i) => {
			const s: Submission = { ref: `${known[i]}@${job.jobDir}` };
			if (job.image !== undefined) s.imageUsed = image;
			if (job.image !== undefined && !image)
				s.note = `ran on the host: this HTCondor backend runs no images, image ${job.image} not used`;
			return s;
		});
	}

	/** Prepares and submits jobs no earlier call submitted; answers their cluster. */
	private async submitFresh(fresh: readonly BackendJob[], spec: CondorJobSpec): Promise<string> {
		try {
			for (const job of fresh) await this.prepare(job);
			if (this.isTransfer) await snapshotWorkspaces(fresh);
			const token = this.userToken(fresh[0] as BackendJob);
			const result = await this.runner.run(
				this.command("condor_submit", ["-terse"], token ? tokenFileOf((fresh[0] as BackendJob).jobDir) : undefined),
				{ input: submitDescription(fresh, spec, this.config) },
			);
			return submittedCluster(result);
		} catch (error) {
			// Refused for good: these jobs never run, so their secrets and snapshots go now. (Other
			// failures may hide a submission that went through, whose inputs HTCondor still reads.)
			if (isAppError(error) && error.code === "validation_failed") {
				for (const job of fresh) await Promise.all([removeJobSecrets(job.jobDir), dropSnapshot(job.jobDir)]);
			}
			throw error;
		}
	}

	private userToken(job: BackendJob): string | undefined {
		const name = this.config.bearerToken?.fromJobEnv;
		return name ? job.env[name] : undefined;
	}

	private async prepare(job: BackendJob): Promise<void> {
		const name = this.config.bearerToken?.fromJobEnv;
		const env = Object.fromEntries(Object.entries(job.env).filter(([k]) => k !== name));
		// Only jobs not yet submitted get here, so their scripts may be rewritten.
		await writeJobScripts(job.jobDir, job.command, env, {
			workdir: job.workdir,
			overwrite: true,
			separateCommand: this.isTransfer, // relocated into the transfer wrapper
			...(job.secrets ? { secrets: job.secrets } : {}),
		});
		if (this.isTransfer) await prepareTransferJob(job);
		const token = this.userToken(job);
		if (token !== undefined) await writeFile(tokenFileOf(job.jobDir), token, { mode: 0o600 });
		await writeFile(join(job.jobDir, submittedFile), `${job.id}\n`);
	}

	/** A job condor_submit may have taken without its id being recorded: by the folder's id, or by OrreryJobId. */
	async find(job: JobIdentity): Promise<string | undefined> {
		const id = await this.priorSubmission(job);
		return id ? `${id}@${job.jobDir}` : undefined;
	}

	/**
	 * The `cluster.proc` of a job already submitted (by this or a crashed server), if any. A schedd
	 * that cannot be asked is not an answer: it throws (retryable) rather than let the job be submitted twice.
	 */
	private async priorSubmission(job: JobIdentity): Promise<string | undefined> {
		const id = ((await readRegularFile(join(job.jobDir, idFile), 4096))?.text ?? "").trim();
		if (/^\d+\.\d+$/.test(id)) return id;
		if (!(await readRegularFile(join(job.jobDir, submittedFile), 4096))?.text) return undefined;
		const constraint = `OrreryJobId == "${job.id}"`;
		for (const tool of ["condor_q", "condor_history"]) {
			const result = await this.runner.run(
				this.command(tool, ["-json", "-attributes", "ClusterId,ProcId", "-constraint", constraint]),
			);
			if (result.exitCode !== 0) {
				throw new AppError(
					"backend_unavailable",
					`${tool} failed (exit ${result.exitCode}) while looking for job ${job.id}: ${lastLine(result.stderr)}`,
				);
			}
			const ad = parseCondorJson(result.stdout)[0];
			if (ad) {
				await writeFile(join(job.jobDir, idFile), `${condorId(ad)}\n`);
				return condorId(ad);
			}
		}
		return undefined;
	}

	async poll(refs: readonly string[]): Promise<Map<string, JobObservation>> {
		const out = new Map<string, JobObservation>();
		const jobs = refs.flatMap((ref) => {
			const m = /^(\d+)\.(\d+)@(\/.*)$/.exec(ref);
			return m ? [{ ref, id: `${m[1]}.${m[2]}`, cluster: m[1] as string, jobDir: m[3] as string }] : [];
		});
		if (jobs.length === 0) return out;
		const clusters = [...new Set(jobs.map((j) => j.cluster))];
		const queue = await this.ads("condor_q", [...clusters]);
		const missing = jobs.filter((j) => !queue.has(j.id));
		const history = missing.length
			? await this.ads("condor_history", [
					"-constraint",
					`member(ClusterId, {${[...new Set(missing.map((j) => j.cluster))].join(",")}})`,
				])
			: new Map<string, CondorAd>();
		const held: string[] = [];
		const withoutExitCode: typeof jobs = [];
		await Promise.all(
			jobs.map(async (j) => {
				const ad = queue.get(j.id) ?? history.get(j.id);
				// File transfer: outputs are complete once the job has completed (or left even the history).
				if (this.isTransfer && (!ad || ad.JobStatus === 4)) {
					const failure = await this.publish(j.jobDir);
					if (failure) {
						await dropSnapshot(j.jobDir);
						return void out.set(j.ref, failure);
					}
				}
				const folder = await readJobFolder(j.jobDir);
				if (folder.exitCode === undefined && !this.isTransfer) withoutExitCode.push(j);
				const obs = observeCondorJob(ad, folder) ?? {
					state: "lost",
					reason: "HTCondor no longer knows the job and its command recorded no exit code",
				};
				if (ad && isHeld(ad) && obs.state !== "queued" && obs.state !== "running") held.push(j.id);
				if (this.isTransfer && (obs.state === "exited" || obs.state === "lost")) await dropSnapshot(j.jobDir);
				out.set(j.ref, obs);
			}),
		);
		await this.followLockHolders(withoutExitCode, out);
		// A held job waits forever; once reported as failed it is removed so it frees its slot.
		if (held.length > 0) await this.remove(held.sort());
		return out;
	}

	/**
	 * A job that ended while its folder held no exit code and names another job as the holder of the
	 * wrapper's lock was a second copy of the job (two submissions of one job): the job is the
	 * holder's, watched instead (one condor_q for all of them) until the folder has its exit code,
	 * or lost when the holder has left the queue without one.
	 */
	private async followLockHolders(
		jobs: ReadonlyArray<{ ref: string; id: string; jobDir: string }>,
		out: Map<string, JobObservation>,
	): Promise<void> {
		const losers = await lockLosers(jobs, out, /^\d+\.\d+$/);
		if (losers.length === 0) return;
		const queue = await this.ads("condor_q", [...new Set(losers.map((l) => l.holder))]);
		await Promise.all(
			losers.map(async (l) => {
				const folder = await readJobFolder(l.jobDir);
				const ad = queue.get(l.holder);
				const obs = observeCondorJob(ad && ad.JobStatus !== 3 && ad.JobStatus !== 4 ? ad : undefined, folder);
				out.set(
					l.ref,
					obs ?? {
						state: "lost",
						reason: `a second copy of the job found it started by another; that copy (${l.holder}) has ended without recording an exit code`,
					},
				);
			}),
		);
	}

	/** Moves a job's returned outputs into its workspace; answers an observation only when that failed. */
	private async publish(jobDir: string): Promise<JobObservation | undefined> {
		let pending = this.publishing.get(jobDir);
		if (!pending) {
			pending = publishReturnedOutputs(jobDir).finally(() => this.publishing.delete(jobDir));
			this.publishing.set(jobDir, pending);
		}
		try {
			await pending;
			return undefined;
		} catch (error) {
			return {
				state: "lost",
				reason: `HTCondor sent the job's outputs back, but they could not be put into the workspace: ${messageOf(error)}`,
			};
		}
	}

	private async ads(tool: string, args: string[]): Promise<Map<string, CondorAd>> {
		const result = await this.runner.run(
			this.command(tool, ["-json", "-attributes", condorAttributes.join(","), ...args]),
		);
		if (result.exitCode !== 0) throw new AppError("backend_unavailable", `${tool} failed: ${lastLine(result.stderr)}`);
		return new Map(parseCondorJson(result.stdout).map((ad) => [condorId(ad), ad]));
	}

	async cancel(ref: string): Promise<void> {
		const m = /^(\d+\.\d+)@(.*)$/.exec(ref);
		if (!m) return;
		// A second copy of the job may be the one running it (see `followLockHolders`): it goes too.
		const holder = this.isTransfer ? undefined : await readLockHolder(m[2] as string);
		const extra = holder && holder !== m[1] && /^\d+\.\d+$/.test(holder) ? [holder] : [];
		await this.remove([m[1] as string, ...extra]);
		if (this.isTransfer) await dropSnapshot(m[2] as string);
	}

	private async remove(ids: readonly string[]): Promise<void> {
		const result = await this.runner.run(this.command("condor_rm", [...ids]));
		if (result.exitCode !== 0 && !/not found|no jobs? matching|already/i.test(result.stderr + result.stdout)) {
			throw new AppError("backend_unavailable", `condor_rm failed: ${lastLine(result.stderr)}`);
		}
	}

	async close(): Promise<void> {}
}

/** The cluster id from `condor_submit -terse` (`123.0 - 123.4`). */
export function submittedCluster(result: CommandResult): string {
	const m = /^(\d+)\.\d+\s*-\s*\d+\.\d+/m.exec(result.stdout);
	if (result.exitCode === 0 && m) return m[1] as string;
	const message = lastLine(result.stderr) || lastLine(result.stdout);
	const isUserError =
		/ERROR: (on line|parse error|invalid|.*not (a valid|allowed))|requirements|accounting group/i.test(message);
	throw new AppError(isUserError ? "validation_failed" : "backend_unavailable", `condor_submit: ${message}`);
}
