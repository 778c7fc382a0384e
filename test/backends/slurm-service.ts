import { execFileSync } from "node:child_process";
import { resolve } from "node:path";

/** Where the shared test services live (../shared from the repository). */
export const servicesDir = resolve(import.meta.dirname, "../../../shared/services");

/** Starts the one-node Slurm (idempotent) and puts its variables into process.env; returns them. */
export function slurmEnv(): Record<string, string> {
	const out = execFileSync("bash", [resolve(servicesDir, "slurm.sh")], {
		encoding: "utf8",
		stdio: ["ignore", "pipe", "ignore"],
		timeout: 300_000,
	});
	const env: Record<string, string> = {};
	for (const line of out.split("\n")) {
		const m = /^export ([A-Z_]+)=(.*)$/.exec(line.trim());
		if (m) env[m[1] as string] = m[2] as string;
	}
	Object.assign(process.env, env);
	return env;
}
