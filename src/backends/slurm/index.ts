import { SlurmBackend } from "./slurm-backend.js";
import { type SlurmConfig, slurmConfigSchema } from "./slurm-config.js";

export { SlurmBackend } from "./slurm-backend.js";
export { type SlurmConfig, slurmConfigSchema } from "./slurm-config.js";

/** The Slurm backend as a plug-in: its kind, its settings schema and its factory. */
export const slurmBackendPlugin = {
	kind: "slurm",
	configSchema: slurmConfigSchema,
	create: (config: SlurmConfig) => SlurmBackend.create(config),
} as const;
