import { HtcondorBackend } from "./htcondor-backend.js";
import { type HtcondorConfig, htcondorConfigSchema } from "./htcondor-config.js";

export { type CondorAd, observeCondorJob, parseCondorJson } from "./condor-states.js";
export { HtcondorBackend } from "./htcondor-backend.js";
export { type HtcondorConfig, htcondorConfigSchema } from "./htcondor-config.js";
export { condorJobSpec, submitDescription } from "./submit-description.js";

/** The HTCondor backend (plain pools and Compute4PUNCH) as a plug-in. */
export const htcondorBackendPlugin = {
	kind: "htcondor",
	configSchema: htcondorConfigSchema,
	create: (config: HtcondorConfig) => HtcondorBackend.create(config),
} as const;
