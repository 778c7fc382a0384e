import { LocalBackend, type LocalConfig, localConfigSchema } from "./local-backend.js";

export { type ContainerRuntimeSetting, containerRuntimeSettings } from "./container-runtime.js";
export { LocalBackend, type LocalConfig, localConfigSchema } from "./local-backend.js";

/** The local backend as a plug-in: its kind, its settings schema and its factory. */
export const localBackendPlugin = {
	kind: "local",
	configSchema: localConfigSchema,
	create: (config: LocalConfig) => LocalBackend.create(config),
} as const;
