import type { ReanaSpecification } from "../contract/index.js";
import type { Parameters, Problem, WorkflowType } from "../spec/index.js";

/** Resources a step asks for; the scheduler hands them to the backend. */
export interface StepResources {
	cpus?: number;
	memoryMiB?: number;
	gpus?: number;
	timeLimitSeconds?: number;
}

/** One unit of work an engine wants run: a shell command, in an image, on a backend. */
export interface JobRequest {
	/** Identity of this unit within the run; the same decision always yields the same key. */
	key: string;
	stepName: string;
	command: string;
	image?: string;
	/** The backend the step names (REANA's `compute_backend`); absent means the server's default. */
	backend?: string;
	resources: StepResources;
	/** The step's backend-specific keys, passed through untouched. */
	backendOptions: Record<string, unknown>;
	/** Where the command runs, relative to the workspace; absent means the workspace itself. */
	workdir?: string;
	/** Further folders the job needs, relative to the workspace, made with its workdir (CWL's tmpdir). */
	folders?: string[];
	env?: Record<string, string>;
	/** How often to retry after an infrastructure failure, or after an exit code in `retryExitCodes`. */
	retries?: number;
	/** Exit codes that mean "try again" (CWL's temporaryFailCodes); any other failure is final. */
	retryExitCodes?: number[];
	/**
	 * The results of an earlier job that ran the same command in the same image on the same workspace
	 * content may be reused instead of running it (the run asked for it: CACHE=on).
	 */
	cacheable?: boolean;
	/**
	 * For a job that reads only the files and folders in `reads` and writes only into `folder` (a CWL
	 * tool; all paths relative to the workspace), asked for with CACHE=on: an earlier job of the same
	 * command on files of the same content may give the files of its folder instead of running.
	 * `runFolder` is the folder holding this run's job folders (other runs have their own), which is
	 * not part of what a job runs on.
	 */
	reuse?: JobReuse;
}

/** What a job reads and where it writes, for reusing an earlier job's folder (see `JobRequest.reuse`). */
export interface JobReuse {
	reads: string[];
	folder: string;
	runFolder: string;
	/** Sub-folders of `folder` that are not part of its result (temporary and staged files). */
	scratch: string[];
}

/** The lifecycle states of a job as engines see them. */
export type JobState = "created" | "queued" | "running" | "finished" | "failed" | "stopped";

/** A job already recorded for this run (the latest attempt of its key). */
export interface JobView {
	id: string;
	key: string;
	stepName: string;
	attempt: number;
	status: JobState;
	exitCode: number | null;
	/** Why it failed, with the tail of its log, when it failed. */
	message: string | null;
	/** What the engine collected when the job ended (see `collect`). */
	outputs: unknown;
}

/** Read-only access to the run's workspace, for engines that collect outputs. */
export interface WorkspaceView {
	readonly path: string;
	readText(relativePath: string): Promise<string>;
	exists(relativePath: string): Promise<boolean>;
	list(glob: string): Promise<string[]>;
}

/** Everything an engine needs to decide what runs next. */
export interface RunState {
	workflowId: string;
	spec: ReanaSpecification;
	/** Input parameters: the specification's, overridden by those given at start. */
	parameters: Parameters;
	/** Operational options given at start (REANA's `-o`). */
	options: Record<string, unknown>;
	jobs: readonly JobView[];
	workspace: WorkspaceView;
	/**
	 * Asks the scheduler for another decision soon. An engine whose decision waits on work of its own
	 * (a plan being made) answers `wait` at once, so other runs go on, and calls this when it is done.
	 */
	wake?: () => void;
}

/** An engine's decision. */
export type EngineStep =
	| { kind: "submit"; jobs: JobRequest[]; total?: number }
	| { kind: "wait"; total?: number }
	| { kind: "done"; outputs?: unknown; total?: number }
	| { kind: "failed"; reason: string; total?: number };

/** What an engine checks before a run starts: the specification, its inputs and the uploaded workspace. */
export type ValidationInput = Omit<RunState, "jobs" | "workflowId">;

/** One workflow type. Pure with respect to the world: given the same run state it decides the same. */
export interface WorkflowEngine {
	readonly type: WorkflowType;
	/** Checks a run before it starts (parameters, options, workflow files in the workspace); errors refuse the start. */
	validate(input: ValidationInput): Promise<Problem[]>;
	/**
	 * The names parameters given at start (`-p name=value`) may have; without it, those of the
	 * specification's `inputs.parameters`.
	 */
	parameterNames?(input: ValidationInput): Promise<string[]>;
	/**
	 * The workspace files (relative paths) that define the workflow and that the run reads, for its
	 * provenance: e.g. a CWL document and every document it imports, includes or runs. Without it, the
	 * specification's `workflow.file`.
	 */
	workflowFiles?(input: ValidationInput): Promise<string[]>;
	/** What should happen next. */
	next(run: RunState): Promise<EngineStep>;
	/** Called once when a job ends; what it returns is stored with the job and shown to `next`. */
	collect?(run: RunState, job: JobView): Promise<unknown>;
	/**
	 * The folders of the workspace (relative paths) that hold one run's files only, such as its jobs'
	 * work folders: removed when the run is deleted while other runs (restarts) keep the workspace.
	 */
	runFolders?(runId: string): string[];
}
