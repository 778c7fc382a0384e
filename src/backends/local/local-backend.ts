import { writeFile } from "node:fs/promises";
import { availableParallelism } from "node:os";
import { join } from "node:path";
import { type Static, Type } from "typebox";
import { AppError, readRegularFile } from "../../common/index.js";
import type {
	BackendCapabilities,
	BackendJob,
	ComputeBackend,
	JobIdentity,
	JobObservation,
	Submission,
} from "../compute-backend.js";
import {
	containerSecretsPath,
	diskAwareFs,
	hasJobStarted,
	jobFiles,
	readJobFolder,
	writeJobScripts,
} from "../job-folder.js";
import {
	type ContainerRuntime,
	type ContainerRuntimeSetting,
	containerArgs,
	containerLaunch,
	containerNameOf,
	detectContainerRuntime,
	ImageCache,
	removeContainer,
} from "./container-runtime.js";
import { type JobLauncher, jobLauncherFactory } from "./job-launcher.js";

/** Settings of the local backend. */
export const localConfigSchema = Type.Object({
	containerRuntime: Type.Union(
		[Type.Literal("auto"), Type.Literal("none"), Type.Literal("podman"), Type.Literal("docker")],
		{ default: "auto", description: "ORRERY_CONTAINER_RUNTIME: run step images with podman or docker, or never" },
	),
	maxActiveJobs: Type.Optional(
		Type.Integer({ minimum: 1, description: "jobs running at once; default: the number of CPUs" }),
	),
});
/** Settings of the local backend. */
export type LocalConfig = Static<typeof localConfigSchema>;

// Jobs handed to a launcher with a queue: this many per job it runs at once, plus this many.
const queuedPerRunning = 4;
const queuedExtra = 8;

// The container names of jobs started before names came from the job folder: orrery-<job id>.
const legacyContainerName = /^orrery-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

// A job that has not created its pid file (its lock) this long after submission never started.
const startGraceMs = 30_000;

/**
 * Runs jobs as processes on this machine. Each job is the job-folder wrapper started in its own
 * process group, detached from the server, so jobs survive a server restart and a stop kills every
 * process the command started.
 */
export class LocalBackend implements ComputeBackend {
	readonly name = "local";
	readonly capabilities: BackendCapabilities;
	// At once on a local disk; through the thread pool for workspaces on a shared filesystem.
	readonly jobFolderFs = diskAwareFs();
	private readonly listeners: Array<(ref: string) => void> = [];
	private readonly submittedAt = new Map<string, number>();
	private readonly runtime: ContainerRuntime | null;
	private readonly images: ImageCache | null;
	private readonly setting: ContainerRuntimeSetting;

	private readonly launcher: JobLauncher;

	private constructor(
		config: LocalConfig,
		runtime: ContainerRuntime | null,
		launcher: (onEnded: (ref: string) => void) => JobLauncher,
	) {
		this.launcher = launcher((ref) => this.notify(ref));
		this.setting = config.containerRuntime;
		this.runtime = runtime;
		this.images = runtime ? new ImageCache(runtime) : null;
		const running = this.launcher.maxRunning;
		this.capabilities = {
			sharedFilesystem: true,
			notifiesChanges: true,
			pollIntervalMs: 1000,
			// A launcher with a queue is handed more jobs than it runs, so the next job starts the moment one
			// ends instead of after a round trip through the server (which short jobs would spend idle).
			maxActiveJobs:
				running !== undefined
					? running * queuedPerRunning + queuedExtra
					: (config.maxActiveJobs ?? availableParallelism()),
			containerRuntime: runtime?.name ?? null,
			enforcesTimeLimit: false,
		};
	}

	/** Creates the backend, detecting the container runtime once. */
	static async create(config: LocalConfig): Promise<LocalBackend> {
		const runtime = await detectContainerRuntime(config.containerRuntime);
		if (!runtime && (config.containerRuntime === "podman" || config.containerRuntime === "docker")) {
			throw new AppError(
				"backend_unavailable",
				`ORRERY_CONTAINER_RUNTIME=${config.containerRuntime}, but ${config.containerRuntime} is not installed or its engine does not answer`,
			);
		}
		const maxRunning = config.maxActiveJobs ?? availableParallelism();
		return new LocalBackend(config, runtime, await jobLauncherFactory({ maxRunning }));
	}

	onChange(listener: (ref: string) => void): void {
		this.listeners.push(listener);
	}

	async submit(job: BackendJob): Promise<Submission> {
		const ref = job.jobDir;
		const placement = await this.placement(job);
		const inheritedEnv = this.launcher.inheritedEnv;
		const scripts = {
			workdir: job.workdir,
			...(inheritedEnv !== undefined ? { inheritedEnv } : {}),
			...(placement.launch ? { launch: placement.launch } : {}),
			...(job.secrets ? { secrets: job.secrets } : {}),
			...(job.secrets && placement.container ? { secretsPath: containerSecretsPath } : {}),
		};
		let isFresh = await writeJobScripts(job.jobDir, job.command, job.env, scripts, this.jobFolderFs);
		if (!isFresh && !(await hasJobStarted(job.jobDir, this.jobFolderFs))) {
			await writeJobScripts(job.jobDir, job.command, job.env, { ...scripts, overwrite: true }, this.jobFolderFs);
			isFresh = true;
		}
		if (isFresh) {
			if (placement.container) await writeFile(join(job.jobDir, jobFiles.container), placement.container);
			this.start(ref);
		}
		this.submittedAt.set(ref, Date.now());
		const submission: Submission = { ref };
		if (job.image !== undefined) submission.imageUsed = placement.container !== undefined;
		if (placement.note !== undefined) submission.note = placement.note;
		return submission;
	}

	private async placement(job: BackendJob): Promise<{ launch?: string[]; container?: string; note?: string }> {
		if (job.image === undefined) return {};
		if (!this.runtime || !this.images) {
			return {
				note: `ran on the host: no container runtime (ORRERY_CONTAINER_RUNTIME=${this.setting}), image ${job.image} not used`,
			};
		}
		const check = await this.images.ensure(job.image);
		if (!check.isAvailable) {
			if (this.setting === "auto") return { note: `ran on the host: ${check.reason}` };
			throw new AppError("validation_failed", check.reason);
		}
		const name = containerNameOf(job.jobDir);
		return {
			container: name,
			launch: containerLaunch(this.runtime, {
				name,
				image: job.image,
				workspace: job.workspace,
				workdir: job.workdir,
				...(job.secrets ? { secretsDir: join(job.jobDir, jobFiles.secrets), secretsPath: containerSecretsPath } : {}),
			}),
		};
	}

	private start(ref: string): void {
		this.launcher.start(ref);
	}

	private notify(ref: string): void {
		for (const l of this.listeners) l(ref);
	}

	async poll(refs: readonly string[]): Promise<Map<string, JobObservation>> {
		const out = new Map<string, JobObservation>();
		await Promise.all(
			refs.map(async (ref) => {
				out.set(ref, await this.observe(ref));
			}),
		);
		return out;
	}

	private async observe(ref: string): Promise<JobObservation> {
		const state = await readJobFolder(ref, this.jobFolderFs);
		if (state.hasStarted) this.launcher.forget(ref);
		if (state.exitCode !== undefined) {
			this.submittedAt.delete(ref);
			const obs: JobObservation = { state: "exited", exitCode: state.exitCode };
			if (state.startedAt) obs.startedAt = state.startedAt;
			if (state.finishedAt) obs.finishedAt = state.finishedAt;
			return obs;
		}
		if (state.pid !== undefined) {
			if (isAlive(state.pid))
				return state.startedAt ? { state: "running", startedAt: state.startedAt } : { state: "running" };
			// The wrapper may have written its exit code between the two reads.
			const again = await readJobFolder(ref, this.jobFolderFs);
			if (again.exitCode !== undefined) return this.observe(ref);
			return {
				state: "lost",
				reason: "the job's process ended without recording an exit code (killed, or the machine restarted)",
			};
		}
		const since = this.submittedAt.get(ref);
		if (state.hasStarted) {
			// A lock without a pid: the wrapper is writing its pid this instant, or a cancel took the lock
			// before the wrapper started (then it never will), or an old wrapper died in between.
			if (since !== undefined && Date.now() - since < startGraceMs) return { state: "running" };
			return {
				state: "lost",
				reason: "the job never started (cancelled before its wrapper ran, or the wrapper was stopped first)",
			};
		}
		if (this.launcher.isWaiting(ref)) return { state: "queued" }; // in the launcher's queue, however long
		if (since === undefined && (await this.jobFolderFs.stat(join(ref, jobFiles.wrapper)).catch(() => undefined))) {
			// Handed over by an earlier server process (this one restarted) and not started: hand it over
			// again. Should the earlier launcher still start it, the first wrapper takes the lock and the
			// other exits at once, so it runs once.
			this.submittedAt.set(ref, Date.now());
			this.start(ref);
			return { state: "queued" };
		}
		if (since !== undefined && Date.now() - since < startGraceMs) return { state: "queued" };
		this.launcher.forget(ref);
		return { state: "lost", reason: "the job never started" };
	}

	/** A local job's ref is its job folder: cancelling it kills the wrapper holding the lock, or takes the lock first. */
	async find(job: JobIdentity): Promise<string | undefined> {
		return job.jobDir;
	}

	async cancel(ref: string): Promise<void> {
		let state = await readJobFolder(ref, this.jobFolderFs);
		if (!state.hasStarted && (await this.takeLock(ref))) return; // its wrapper will exit at once
		// The wrapper got there first: its pid is in the file a moment after the file exists.
		for (let i = 0; i < 10 && state.pid === undefined && state.exitCode === undefined; i++) {
			await new Promise((r) => setTimeout(r, 20));
			state = await readJobFolder(ref, this.jobFolderFs);
		}
		const recorded = (await readRegularFile(join(ref, jobFiles.container), 4096))?.text.trim();
		if (state.pid !== undefined && state.exitCode === undefined) {
			killGroup(state.pid, "SIGTERM");
			setTimeout(() => killGroup(state.pid as number, "SIGKILL"), 5000).unref();
		}
		if (recorded !== undefined) await this.removeJobContainer(ref, recorded);
	}

	/**
	 * Removes a cancelled job's container. Its name comes from the job folder, never from the job
	 * folder's `container` file: the job can rewrite that file (to another job's container), so the file
	 * only says that the job runs in a container. A job started before names came from the folder has its
	 * own name (`orrery-<job id>`) there; that container is removed only if it was started for this job
	 * folder's command.sh.
	 */
	private async removeJobContainer(ref: string, recorded: string): Promise<void> {
		if (!this.runtime) return;
		const name = containerNameOf(ref);
		await removeContainer(this.runtime, name);
		if (recorded === name || !legacyContainerName.test(recorded)) return;
		const args = await containerArgs(this.runtime, recorded);
		if (args?.[0] === join(ref, jobFiles.command)) await removeContainer(this.runtime, recorded);
	}

	/**
	 * Takes a job's lock (its pid file, created exclusively) before its wrapper does, so that a job
	 * cancelled before it started never runs; false when the wrapper holds it already.
	 */
	private async takeLock(ref: string): Promise<boolean> {
		try {
			await this.jobFolderFs.writeFile(join(ref, jobFiles.pid), "", { mode: 0o644, flag: "wx" });
			return true;
		} catch (error) {
			if ((error as NodeJS.ErrnoException).code === "EEXIST") return false;
			if ((error as NodeJS.ErrnoException).code === "ENOENT") return true; // no folder: never handed to a wrapper
			throw error;
		}
	}

	async close(): Promise<void> {
		this.launcher.close();
		this.listeners.length = 0;
	}
}

function isAlive(pid: number): boolean {
	try {
		process.kill(pid, 0);
		return true;
	} catch (error) {
		return (error as NodeJS.ErrnoException).code === "EPERM";
	}
}

function killGroup(pid: number, signal: NodeJS.Signals): void {
	try {
		process.kill(-pid, signal);
	} catch {
		// the group is already gone
	}
}
