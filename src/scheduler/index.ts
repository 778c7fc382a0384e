export { GuardedBackend } from "./guarded-backend.js";
export { computeProgress, type Progress } from "./progress.js";
export { decodeWorkflow } from "./run-view.js";
export {
	checkDeclaredInputs,
	checkWorkflowName,
	createRun,
	deleteRun,
	findRun,
	parseWorkflowRef,
	type RunsDeps,
	requestStop,
	runName,
	type StartOptions,
	startRun,
	type WorkflowRef,
	waitUntilSettled,
} from "./runs.js";
export { Scheduler, type SchedulerConfig, type SchedulerDeps } from "./scheduler.js";
