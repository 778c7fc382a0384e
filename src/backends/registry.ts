import type { TSchema } from "typebox";
import { AppError } from "../common/index.js";
import type { ComputeBackend } from "./compute-backend.js";
import { htcondorBackendPlugin } from "./htcondor/index.js";
import { kubernetesBackendPlugin } from "./kubernetes/index.js";
import { localBackendPlugin } from "./local/index.js";
import { slurmBackendPlugin } from "./slurm/index.js";

/** A backend plug-in: its kind, the schema of its settings, and how to create it from them. */
export interface BackendPlugin {
	readonly kind: string;
	readonly configSchema: TSchema;
	create(config: never): Promise<ComputeBackend>;
}

/** Every backend kind this build of Orrery has. */
export const backendPlugins: Readonly<Record<string, BackendPlugin>> = {
	local: localBackendPlugin,
	slurm: slurmBackendPlugin,
	htcondor: htcondorBackendPlugin,
	kubernetes: kubernetesBackendPlugin,
};

/** One configured backend: the name steps use (`compute_backend`), its kind and its settings. */
export interface BackendSetting {
	name: string;
	kind: string;
	settings: Record<string, unknown>;
}

/**
 * Checks a backend's settings against its plug-in's schema (defaults applied); errors name the backend
 * and field. TypeBox's value module is loaded here only: it is a tenth of a server's start-up.
 */
export async function validateBackendSetting(setting: BackendSetting, source = "backend settings"): Promise<unknown> {
	const { Value } = await import("typebox/value");
	const plugin = backendPlugins[setting.kind];
	if (!plugin) {
		throw new AppError(
			"validation_failed",
			`${source}: backend '${setting.name}' has kind '${setting.kind}'; known kinds: ${Object.keys(backendPlugins).join(", ")}`,
		);
	}
	const value = Value.Default(plugin.configSchema, structuredClone(setting.settings));
	const errors = [...Value.Errors(plugin.configSchema, value)];
	if (errors.length > 0) {
		const lines = errors
			.filter((e) => e.keyword !== "boolean")
			.slice(0, 5)
			.map((e) => {
				const extra = (e.params as { additionalProperties?: string[] }).additionalProperties;
				const where = `${setting.name}${e.instancePath.replace(/\//g, ".")}`;
				return extra ? `${where}: unknown setting ${extra.join(", ")}` : `${where}: ${e.message}`;
			});
		throw new AppError(
			"validation_failed",
			`${source}: backend '${setting.name}' (${setting.kind}): ${lines.join("; ")}`,
		);
	}
	return value;
}

/** Creates the configured backends; if one fails, those already created are closed again. */
export async function createBackends(
	settings: readonly BackendSetting[],
	source?: string,
): Promise<Map<string, ComputeBackend>> {
	const validated = await Promise.all(
		settings.map(async (s) => ({ setting: s, config: await validateBackendSetting(s, source) })),
	);
	const backends = new Map<string, ComputeBackend>();
	try {
		for (const { setting, config } of validated) {
			const plugin = backendPlugins[setting.kind] as BackendPlugin;
			backends.set(setting.name, await plugin.create(config as never));
		}
	} catch (error) {
		for (const b of backends.values()) await b.close().catch(() => undefined);
		throw error;
	}
	return backends;
}
