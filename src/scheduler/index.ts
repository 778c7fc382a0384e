export { exceededQuota, recomputeUsage, recordRunEnd, remeasure } from "./accounting.js";
export { GuardedBackend } from "./guarded-backend.js";
export { computeProgress, type Progress } from "./progress.js";
export { applyDueRetentionRules, keptPathsOf } from "./retention.js";
export { decodeWorkflow } from "./run-view.js";
export {
	checkDeclaredInputs,
	checkQuota,
	checkWorkflowName,
	createRun,
	deleteRun,
	findRun,
	parseWorkflowRef,
	type RestartOptions,
	type RunsDeps,
	requestStop,
	restartRun,
	runName,
	type StartOptions,
	startRun,
	type WorkflowRef,
	waitUntilSettled,
} from "./runs.js";
export { Scheduler, type SchedulerConfig, type SchedulerDeps } from "./scheduler.js";
export type { StagingGate } from "./staging-phase.js";
export { remoteInputPathsOf as remoteInputPaths } from "./staging-plan.js";
export type { StagingProgress } from "./staging-progress.js";
export { workflowFileDigests } from "./workflow-files.js";
