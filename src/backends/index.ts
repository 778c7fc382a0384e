export type {
	BackendCapabilities,
	BackendJob,
	ComputeBackend,
	JobIdentity,
	JobObservation,
	JobResources,
	Submission,
} from "./compute-backend.js";
export { HtcondorBackend, type HtcondorConfig, htcondorBackendPlugin } from "./htcondor/index.js";
export {
	containerSecretsPath,
	diskAwareFs,
	inheritedEnvironment,
	inlineFs,
	type JobFolderFs,
	type JobSecretValues,
	jobEnvironment,
	jobFiles,
	lockLostExitCode,
	readJobFolder,
	readTail,
	removeJobSecrets,
	shQuote,
	tailJobLog,
	threadPoolFs,
	writeJobScripts,
} from "./job-folder.js";
export { type KubernetesBackend, type KubernetesConfig, kubernetesBackendPlugin } from "./kubernetes/index.js";
export {
	type ContainerRuntimeSetting,
	containerRuntimeSettings,
	LocalBackend,
	type LocalConfig,
	localBackendPlugin,
} from "./local/index.js";
export {
	type BackendPlugin,
	type BackendSetting,
	backendPlugins,
	createBackends,
	validateBackendSetting,
} from "./registry.js";
export { SlurmBackend, type SlurmConfig, slurmBackendPlugin } from "./slurm/index.js";
