import type { ComputeBackend, JobSecretValues } from "../backends/index.js";
import type { Clock, Logger } from "../common/index.js";
import type { StagingConfig } from "../config/index.js";
import type { Db } from "../db/index.js";
import type { WorkflowEngine } from "../engines/index.js";
import type { WorkflowType } from "../spec/index.js";

/** Settings of the run loop. */
export interface SchedulerConfig {
	/** Identifies this server process; a restarted process with the same id takes its leases back at once. */
	instanceId: string;
	leaseMs: number;
	/** How long the loop sleeps when nothing wakes it. */
	idleMs: number;
	maxWorkflowsPerTick: number;
	/** The backend for steps that name none. */
	defaultBackend: string;
	/** Maps a step's `compute_backend` (REANA's names included) to a configured backend name. */
	backendAliases: Record<string, string>;
	/** Stage-in before the first job and publication after success (absent: runs use only their workspace). */
	staging?: StagingConfig;
}

/** What the run loop works with. */
export interface SchedulerDeps {
	db: Db;
	backends: ReadonlyMap<string, ComputeBackend>;
	engines: ReadonlyMap<WorkflowType, WorkflowEngine>;
	clock: Clock;
	logger: Logger;
	/** The decrypted secrets of a user, handed to their jobs (absent: jobs get no secrets). */
	secretsOf?: (userId: string) => Promise<JobSecretValues>;
}

/** Job states after which nothing more happens to a job. */
export const terminalJob = new Set(["finished", "failed", "stopped"]);
