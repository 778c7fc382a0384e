import { AppError } from "../common/index.js";
import type { ReanaSpecification, SerialSpecification, SerialStep } from "../contract/index.js";

/** The default name REANA gives to step number `index` (0-based) when it has none. */
export function defaultStepName(index: number): string {
	return `step${index}`;
}

/** The serial steps of a specification, each with a name (its own or a default). */
export function serialSteps(spec: ReanaSpecification): Array<SerialStep & { name: string }> {
	const steps = (spec.workflow.specification as SerialSpecification | undefined)?.steps ?? [];
	return steps.map((s, i) => ({ ...s, name: s.name ?? defaultStepName(i) }));
}

/** Operational options of a serial run (REANA's `-o`). */
export interface SerialOptions {
	from?: string;
	target?: string;
	cache: boolean;
}

const knownOptions = ["FROM", "TARGET", "CACHE"];

/** Whether a run's operational options ask for CACHE=on (default off); any other value than on or off is refused. */
export function isCacheRequested(options: Record<string, unknown>): boolean {
	const cache = String(options.CACHE ?? "off").toLowerCase();
	if (!["on", "off", "true", "false", "1", "0", "yes", "no"].includes(cache))
		throw new AppError("validation_failed", `CACHE=${String(options.CACHE)} is neither on nor off`);
	return ["on", "true", "1", "yes"].includes(cache);
}

/** Reads and checks the operational options of a serial run against its steps. */
export function serialOptions(spec: ReanaSpecification, options: Record<string, unknown>): SerialOptions {
	const names = serialSteps(spec).map((s) => s.name);
	for (const key of Object.keys(options)) {
		if (!knownOptions.includes(key)) {
			throw new AppError("validation_failed", `unknown operational option '${key}' for a serial workflow`, {
				details: { hint: `serial workflows accept ${knownOptions.join(", ")}` },
			});
		}
	}
	const out: SerialOptions = { cache: isCacheRequested(options) };
	for (const [key, field] of [
		["FROM", "from"],
		["TARGET", "target"],
	] as const) {
		const value = options[key];
		if (value === undefined || value === null || value === "") continue;
		const name = String(value);
		if (!names.includes(name)) {
			throw new AppError("validation_failed", `${key}=${name} names no step; the steps are ${names.join(", ")}`);
		}
		out[field] = name;
	}
	if (out.from !== undefined && out.target !== undefined && names.indexOf(out.from) > names.indexOf(out.target)) {
		throw new AppError("validation_failed", `FROM=${out.from} comes after TARGET=${out.target}; swap them`);
	}
	return out;
}
