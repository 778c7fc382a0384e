export type {
	BackendCapabilities,
	BackendJob,
	ComputeBackend,
	JobObservation,
	JobResources,
	Submission,
} from "./compute-backend.js";
export {
	containerSecretsPath,
	type JobSecretValues,
	jobFiles,
	readJobFolder,
	readTail,
	removeJobSecrets,
	shQuote,
	tailJobLog,
	writeJobScripts,
} from "./job-folder.js";
export {
	type ContainerRuntimeSetting,
	containerRuntimeSettings,
	LocalBackend,
	type LocalConfig,
	localBackendPlugin,
} from "./local/index.js";
