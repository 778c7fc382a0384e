import { stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { AppError } from "../../common/index.js";
import { CommandRunner, isOnPath } from "../command-runner.js";
import type {
	BackendCapabilities,
	BackendJob,
	ComputeBackend,
	JobIdentity,
	JobObservation,
	Submission,
} from "../compute-backend.js";
import { type JobFolderState, lockLosers, readJobFolder, readLockHolder } from "../job-folder.js";
import {
	clusterPaths,
	parseSlurmRef,
	prepareJobFolder,
	readSlurmId,
	readSubmitRecord,
	slurmFiles,
	slurmRef,
	writeSlurmId,
	writeSubmitRecord,
} from "./job-preparation.js";
import { arrayBatchScript, arrayKey, batchScript, containerPlacement, slurmJobSpec } from "./sbatch-script.js";
import { SlurmCli, type SlurmTransport } from "./slurm-cli.js";
import type { SlurmConfig } from "./slurm-config.js";
import { SlurmRest } from "./slurm-rest.js";
import {
	isActiveSlurmState,
	lockLostReason,
	observeSlurmJob,
	type SlurmRecord,
	vanishedObservation,
} from "./slurm-states.js";
import { SshStaging } from "./ssh-staging.js";

/**
 * Runs jobs on Slurm. Every job is the job-folder wrapper submitted with sbatch (or slurmrestd), named
 * after Orrery's job id; one squeue call observes all jobs, sacct fills in jobs squeue has forgotten,
 * and the job folder supplies the command's own exit code.
 */
/** The file a job folder gets when Orrery asks Slurm to cancel the job. */
const cancelRequested = "cancel-requested";

export class SlurmBackend implements ComputeBackend {
	readonly name = "slurm";
	readonly capabilities: BackendCapabilities;
	/** The command runner, whose `commandsIssued` counts scheduler commands (metrics, benchmarks). */
	readonly runner: CommandRunner;
	private readonly transport: SlurmTransport;
	private readonly staging: SshStaging | undefined;
	private pendingCancels: string[] = [];
	private cancelFlush: Promise<void> | undefined;

	constructor(
		private readonly config: SlurmConfig,
		transport?: SlurmTransport,
	) {
		this.runner = new CommandRunner({
			...(config.ssh ? { ssh: config.ssh } : {}),
			timeoutMs: config.commandTimeoutMs,
		});
		this.transport =
			transport ??
			(config.transport === "rest" && config.rest ? new SlurmRest(config.rest) : new SlurmCli(this.runner));
		if (config.staging === "ssh") {
			if (!config.ssh || !config.remoteWorkspaceRoot) {
				throw new AppError("validation_failed", "slurm: staging=ssh needs `ssh` and `remoteWorkspaceRoot`");
			}
			this.staging = new SshStaging(
				config.ssh,
				config.remoteWorkspaceRoot,
				new CommandRunner({ timeoutMs: 3_600_000 }),
			);
		}
		this.capabilities = {
			sharedFilesystem: config.staging === "shared",
			notifiesChanges: false,
			pollIntervalMs: config.pollIntervalMs,
			maxActiveJobs: config.maxActiveJobs,
			containerRuntime: config.container?.runtime ?? null,
			enforcesTimeLimit: true,
		};
	}

	/** Creates the backend, checking that Slurm's tools (or slurmrestd's settings) are there. */
	static async create(config: SlurmConfig): Promise<SlurmBackend> {
		if (config.transport === "rest" && !config.rest) {
			throw new AppError("validation_failed", "slurm: transport=rest needs the `rest` settings (url, user, token)");
		}
		if (config.transport === "cli" && !config.ssh && !(await isOnPath("sbatch"))) {
			throw new AppError("backend_unavailable", "slurm: sbatch is not on PATH (install the Slurm client or set `ssh`)");
		}
		return new SlurmBackend(config);
	}

	/** Scheduler commands (or slurmrestd requests) issued so far. */
	get commandsIssued(): number {
		return this.transport instanceof SlurmRest ? this.transport.requestsIssued : this.runner.commandsIssued;
	}

	private toCluster = (path: string): string => (this.staging ? this.staging.remotePath(path) : path);

	async submit(job: BackendJob): Promise<Submission> {
		const placement = containerPlacement(job, this.config.container);
		const prior = await this.priorSubmission(job.jobDir);
		if (prior) return this.answer(prior, job, placement);
		const paths = clusterPaths(job, this.toCluster);
		await prepareJobFolder(job, paths, this.config.container);
		const spec = slurmJobSpec(job, this.config, paths.jobDir);
		await writeSubmitRecord(job.jobDir, {
			name: spec.name,
			workspace: job.workspace,
			...(spec.time ? { time: spec.time } : {}),
			...(spec.memoryMiB !== undefined ? { memoryMiB: spec.memoryMiB } : {}),
		});
		await this.staging?.stageIn(job.workspace);
		const id = await this.transport.submit(batchScript(paths.jobDir), spec);
		await writeSlurmId(job.jobDir, id);
		return this.answer(id, job, placement);
	}

	/** Submits jobs with equal settings as job arrays (one sbatch per `maxArraySize` jobs). */
	async submitBatch(jobs: readonly BackendJob[]): Promise<Submission[]> {
		const results: Array<Submission | undefined> = new Array(jobs.length);
		const groups = new Map<string, number[]>();
		await Promise.all(
			jobs.map(async (job, i) => {
				const prior = await this.priorSubmission(job.jobDir);
				if (prior) {
					results[i] = this.answer(prior, job, containerPlacement(job, this.config.container));
					return;
				}
			}),
		);
		jobs.forEach((job, i) => {
			if (results[i]) return;
			const key = arrayKey(slurmJobSpec(job, this.config));
			groups.set(key, [...(groups.get(key) ?? []), i]);
		});
		for (const indexes of groups.values()) {
			if (indexes.length < this.config.arrayThreshold) {
				for (const i of indexes) results[i] = await this.submit(jobs[i] as BackendJob);
				continue;
			}
			for (let at = 0; at < indexes.length; at += this.config.maxArraySize) {
				const chunk = indexes.slice(at, at + this.config.maxArraySize);
				const refs = await this.submitArray(chunk.map((i) => jobs[i] as BackendJob));
				chunk.forEach((i, k) => {
					results[i] = refs[k];
				});
			}
		}
		return results as Submission[];
	}

	private async submitArray(jobs: readonly BackendJob[]): Promise<Submission[]> {
		const first = jobs[0] as BackendJob;
		const firstPaths = clusterPaths(first, this.toCluster);
		const spec = { ...slurmJobSpec(first, this.config, firstPaths.jobDir), name: `orrery-array-${first.id}` };
		const placements = await Promise.all(
			jobs.map(async (job, k) => {
				const placement = await prepareJobFolder(job, clusterPaths(job, this.toCluster), this.config.container);
				await writeSubmitRecord(job.jobDir, {
					name: spec.name,
					index: k + 1,
					workspace: job.workspace,
					...(spec.time ? { time: spec.time } : {}),
					...(spec.memoryMiB !== undefined ? { memoryMiB: spec.memoryMiB } : {}),
				});
				return placement;
			}),
		);
		const list = jobs.map((j) => this.toCluster(j.jobDir)).join("\n");
		await writeFile(join(first.jobDir, slurmFiles.arrayList), `${list}\n`);
		for (const ws of new Set(jobs.map((j) => j.workspace))) await this.staging?.stageIn(ws);
		const listFile = join(firstPaths.jobDir, slurmFiles.arrayList);
		const output = join(firstPaths.jobDir, "slurm-%a.out");
		const id = await this.transport.submit(arrayBatchScript(listFile), spec, { indexes: `1-${jobs.length}`, output });
		return Promise.all(
			jobs.map(async (job, k) => {
				await writeSlurmId(job.jobDir, `${id}_${k + 1}`);
				return this.answer(`${id}_${k + 1}`, job, placements[k] ?? {});
			}),
		);
	}

	/** The Slurm id of a job this backend (or a crashed predecessor) already submitted. */
	private async priorSubmission(jobDir: string): Promise<string | undefined> {
		const id = await readSlurmId(jobDir);
		if (id) return id;
		const record = await readSubmitRecord(jobDir);
		if (!record) return undefined;
		// sbatch may have succeeded just before a crash: Slurm knows the job by its name.
		const base = await this.transport.findByName(record.name);
		if (!base) return undefined;
		const found = record.index === undefined ? base : `${base}_${record.index}`;
		await writeSlurmId(jobDir, found);
		return found;
	}

	/** A job sbatch may have taken without its id being recorded: by the folder's id, or its submit record and name. */
	async find(job: JobIdentity): Promise<string | undefined> {
		const id = await this.priorSubmission(job.jobDir);
		return id ? slurmRef(id, job.jobDir) : undefined;
	}

	private answer(id: string, job: BackendJob, placement: { imageUsed?: boolean; note?: string }): Submission {
		const s: Submission = { ref: slurmRef(id, job.jobDir) };
		if (placement.imageUsed !== undefined) s.imageUsed = placement.imageUsed;
		if (placement.note !== undefined) s.note = placement.note;
		return s;
	}

	async poll(refs: readonly string[]): Promise<Map<string, JobObservation>> {
		const out = new Map<string, JobObservation>();
		const jobs = refs.flatMap((ref) => {
			const p = parseSlurmRef(ref);
			return p ? [{ ref, ...p }] : [];
		});
		if (jobs.length === 0) return out;
		const queue = await this.transport.queue([...new Set(jobs.map((j) => j.base))]);
		await this.stageOutEnded(jobs.filter((j) => !isActive(queue.get(j.id))).map((j) => j.jobDir));
		const withoutExitCode = new Set<string>();
		const unresolved: Array<{ ref: string; id: string; base: string; folder: JobFolderState; jobDir: string }> = [];
		await Promise.all(
			jobs.map(async (j) => {
				const record = queue.get(j.id);
				if (record?.state === "PENDING") return void out.set(j.ref, { state: "queued" });
				const folder = await readJobFolder(j.jobDir);
				if (folder.exitCode === undefined) withoutExitCode.add(j.ref);
				const facts = isActive(record) ? {} : ((await readSubmitRecord(j.jobDir)) ?? {});
				const obs = observeSlurmJob(record, folder, facts);
				if (obs) out.set(j.ref, obs);
				else unresolved.push({ ...j, folder });
			}),
		);
		if (unresolved.length > 0) {
			const ended = await this.transport.accounting([...new Set(unresolved.map((j) => j.base))]);
			for (const j of unresolved) {
				const record = ended.get(j.id);
				const facts = (await readSubmitRecord(j.jobDir)) ?? {};
				out.set(j.ref, (record && observeSlurmJob(record, j.folder, facts)) || vanishedObservation(j.folder));
			}
		}
		await this.followLockHolders(
			jobs.filter((j) => withoutExitCode.has(j.ref)),
			out,
		);
		// Slurm signals every process of a cancelled job at once: a command whose children die first may
		// see them end and exit 0 before its own signal arrives. A job Orrery cancelled never reads as a success.
		await Promise.all(
			jobs.map(async (j) => {
				const obs = out.get(j.ref);
				if (obs?.state !== "exited" || obs.exitCode !== 0) return;
				if (await stat(join(j.jobDir, cancelRequested)).catch(() => undefined)) {
					out.set(j.ref, { ...obs, exitCode: 143, reason: "stopped: Orrery cancelled the job on Slurm" });
				}
			}),
		);
		return out;
	}

	/**
	 * A Slurm job that ended while its folder held no exit code and names another Slurm job as the
	 * holder of the wrapper's lock was a second copy of the job (two submissions of one job): it ran
	 * nothing, and the job is the holder's. The holder is watched instead (one squeue for all of them):
	 * queued or running while Slurm has it active, then the folder's exit code, or lost without one.
	 */
	private async followLockHolders(
		jobs: ReadonlyArray<{ ref: string; id: string; jobDir: string }>,
		out: Map<string, JobObservation>,
	): Promise<void> {
		const losers = await lockLosers(jobs, out, /^\d+(_\d+)?$/);
		if (losers.length === 0) return;
		const queue = await this.transport.queue([...new Set(losers.map((l) => l.holder.split("_")[0] as string))]);
		await Promise.all(
			losers.map(async (l) => {
				const folder = await readJobFolder(l.jobDir);
				if (folder.exitCode !== undefined) {
					const obs: JobObservation = { state: "exited", exitCode: folder.exitCode };
					if (folder.startedAt) obs.startedAt = folder.startedAt;
					if (folder.finishedAt) obs.finishedAt = folder.finishedAt;
					return void out.set(l.ref, obs);
				}
				const record = queue.get(l.holder);
				if (record && isActiveSlurmState(record.state)) {
					const obs = observeSlurmJob(record, folder);
					return void out.set(l.ref, obs?.state === "queued" ? obs : { state: "running" });
				}
				out.set(l.ref, { state: "lost", reason: `${lockLostReason} (the holder, Slurm job ${l.holder}, has ended)` });
			}),
		);
	}

	private async stageOutEnded(jobDirs: readonly string[]): Promise<void> {
		if (!this.staging || jobDirs.length === 0) return;
		const workspaces = new Set<string>();
		for (const dir of jobDirs) {
			const record = await readSubmitRecord(dir);
			if (record) workspaces.add(record.workspace);
		}
		for (const ws of workspaces) await this.staging.stageOut(ws);
	}

	/**
	 * Cancels a job; cancels requested in the same moment go out as one scancel. The job folder records
	 * the request first (see `poll`).
	 */
	async cancel(ref: string): Promise<void> {
		const p = parseSlurmRef(ref);
		if (!p) return;
		await writeFile(join(p.jobDir, cancelRequested), "").catch(() => undefined);
		this.pendingCancels.push(p.id);
		// A second copy of the job may be the one running it (see `followLockHolders`): it goes too.
		const holder = await readLockHolder(p.jobDir);
		if (holder && holder !== p.id && /^\d+(_\d+)?$/.test(holder)) this.pendingCancels.push(holder);
		this.cancelFlush ??= new Promise<void>((resolve, reject) => {
			setImmediate(() => {
				const ids = this.pendingCancels;
				this.pendingCancels = [];
				this.cancelFlush = undefined;
				this.transport.cancel(ids).then(resolve, reject);
			});
		});
		return this.cancelFlush;
	}

	async close(): Promise<void> {
		await this.cancelFlush;
	}
}

function isActive(record: SlurmRecord | undefined): boolean {
	return record !== undefined && isActiveSlurmState(record.state);
}
