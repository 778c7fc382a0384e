export * from "./cwl/index.js";
export { cwlParameterFile } from "./cwl-parameter-file.js";
export { type Parameters, substituteParameters } from "./parameters.js";
export { formatProblem, type Problem, SpecError } from "./problem.js";
export {
	type LoadedSpec,
	type LoadSpecOptions,
	loadReanaSpecFile,
	stepLabel,
	type ValidateSpecOptions,
	validateReanaSpec,
	type WorkflowType,
} from "./reana-spec-loader.js";
export { defaultStepName, isCacheRequested, type SerialOptions, serialOptions, serialSteps } from "./serial.js";
