import type { WorkflowType } from "../spec/index.js";
import { cwlEngine } from "./cwl/cwl-engine.js";
import { serialEngine } from "./serial/serial-engine.js";
import { snakemakeEngine } from "./snakemake/snakemake-engine.js";
import type { WorkflowEngine } from "./workflow-engine.js";

export { memoryToMiB, plannedUnits, serialEngine, slurmTimeToSeconds } from "./serial/serial-engine.js";
export type {
	EngineStep,
	JobRequest,
	JobReuse,
	JobState,
	JobView,
	RunState,
	StepResources,
	ValidationInput,
	WorkflowEngine,
	WorkspaceView,
} from "./workflow-engine.js";

/** The engines this build has, by workflow type. */
export function builtInEngines(): Map<WorkflowType, WorkflowEngine> {
	return new Map<WorkflowType, WorkflowEngine>([
		[serialEngine.type, serialEngine],
		[cwlEngine.type, cwlEngine],
		[snakemakeEngine.type, snakemakeEngine],
	]);
}
