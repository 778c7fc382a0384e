import { type KubernetesConfig, kubernetesConfigSchema } from "./kubernetes-config.js";

export { jobManifest, kubernetesJobName, orrerySelector } from "./job-manifest.js";
export { observeKubernetesJob } from "./kube-states.js";
export type { KubernetesBackend } from "./kubernetes-backend.js";
export { type KubernetesConfig, kubernetesConfigSchema } from "./kubernetes-config.js";

/**
 * The Kubernetes backend as a plug-in. Its client library takes most of a second to load, so it is
 * loaded only when a Kubernetes backend is configured.
 */
export const kubernetesBackendPlugin = {
	kind: "kubernetes",
	configSchema: kubernetesConfigSchema,
	create: async (config: KubernetesConfig) =>
		(await import("./kubernetes-backend.js")).KubernetesBackend.create(config),
} as const;
