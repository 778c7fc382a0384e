import type { JobFolderFs, JobSecretValues } from "./job-folder.js";

/** Resources a job asks for; each backend maps them onto its own terms (sbatch flags, pod limits, …). */
export interface JobResources {
	cpus?: number;
	memoryMiB?: number;
	gpus?: number;
	/** Wall-clock limit; the backend (or the scheduler, for backends that cannot) ends the job after it. */
	timeLimitSeconds?: number;
}

/** One job as a backend sees it: a command, where to run it, and in what. */
export interface BackendJob {
	/** Orrery's job id, stable across server restarts: backends use it to make submission idempotent. */
	id: string;
	/** The job folder (absolute) holding the wrapper protocol files. */
	jobDir: string;
	/** The workspace (absolute); containers get it bind-mounted at the same path. */
	workspace: string;
	/** The directory (absolute, inside the workspace) the command runs in. */
	workdir: string;
	/** A shell command line. */
	command: string;
	/** A container image (REANA's `environment`), when the step names one. */
	image?: string;
	env: Record<string, string>;
	/** The owner's secrets, written into the job folder for the job's lifetime only. */
	secrets?: JobSecretValues;
	resources: JobResources;
	/** The step's backend-specific settings (REANA's slurm_*, htcondor_*, kubernetes_* keys). */
	options: Record<string, unknown>;
}

/** What stays known of a job whose backend reference was never recorded: Orrery's id and its job folder. */
export type JobIdentity = Pick<BackendJob, "id" | "jobDir">;

/** What a backend answers when it accepts a job. */
export interface Submission {
	/** The backend's handle for the job (a Slurm job id, a folder, a Kubernetes Job name). */
	ref: string;
	/** Whether the command runs in the requested image; false when it runs on the host instead. */
	imageUsed?: boolean;
	/** Why the image is not used, or other facts worth recording on the job. */
	note?: string;
}

/** A job's state as last observed on the backend. */
export type JobObservation =
	| { state: "queued" }
	| { state: "running"; startedAt?: Date }
	| {
			state: "exited";
			exitCode: number;
			startedAt?: Date;
			finishedAt?: Date;
			/** Why the backend ended the job, when it did (time limit, out of memory, cancelled outside Orrery). */
			reason?: string;
	  }
	| { state: "lost"; reason: string };

/** What a backend can do; the scheduler reads these flags and never checks which class it holds. */
export interface BackendCapabilities {
	/** Jobs see the server's workspace paths (no staging needed). */
	sharedFilesystem: boolean;
	/** The backend calls `onChange` when a job may have changed, so the scheduler need not wait for the next poll. */
	notifiesChanges: boolean;
	/** The least time between two polls of this backend, in milliseconds. */
	pollIntervalMs: number;
	/** How many of Orrery's jobs may be submitted at once (the rest wait in the database). */
	maxActiveJobs: number;
	/** Container runtime the backend runs images with, or null when it cannot run images. */
	containerRuntime: string | null;
	/** The backend enforces `timeLimitSeconds` itself. */
	enforcesTimeLimit: boolean;
	/** Job folders must lie below this path (where the backend's jobs see the workspaces), if it has one. */
	jobFolderRoot?: string;
}

/** One compute system: it starts, observes and stops jobs. The scheduler owns cadence, retries and timeouts. */
export interface ComputeBackend {
	readonly name: string;
	readonly capabilities: BackendCapabilities;
	/** How the core creates this backend's job folders (default: through the thread pool, see `JobFolderFs`). */
	readonly jobFolderFs?: JobFolderFs;
	/** Starts a job. Submitting the same job id twice must not run it twice. */
	submit(job: BackendJob, signal?: AbortSignal): Promise<Submission>;
	/**
	 * Starts many jobs in as few scheduler calls as the backend can (a Slurm job array), answering
	 * one submission per job in the same order. Optional: without it the scheduler calls `submit`
	 * per job. The same idempotency rule holds for every job of the batch.
	 */
	submitBatch?(jobs: readonly BackendJob[], signal?: AbortSignal): Promise<Submission[]>;
	/** Observes many jobs in one batched call; refs the backend knows nothing about are absent from the map. */
	poll(refs: readonly string[]): Promise<Map<string, JobObservation>>;
	/**
	 * The ref of a job this backend may have accepted although its ref was never recorded (a crash
	 * between submission and record, or a submission that failed after the backend took the job),
	 * found from what is durable: the job folder, and Orrery's job id the job is named after.
	 * Undefined when the backend never took it. A ref answered for a job that never started must
	 * still be cancellable so that it never runs (the local backend then takes the wrapper's lock).
	 */
	find(job: JobIdentity): Promise<string | undefined>;
	/** Stops a job (and everything it started); stopping a finished or unknown job is not an error. */
	cancel(ref: string): Promise<void>;
	/** Registers a listener called with a ref when that job may have changed. */
	onChange?(listener: (ref: string) => void): void;
	/** Releases resources (watchers, connections); running jobs are left running. */
	close(): Promise<void>;
}
