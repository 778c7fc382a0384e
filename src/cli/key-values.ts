import { AppError } from "../common/index.js";

/** Parses repeated `key=value` options (REANA's -p and -o). */
export function parseKeyValues(pairs: readonly string[] | undefined, flag: string): Record<string, string> {
	const out: Record<string, string> = {};
	for (const pair of pairs ?? []) {
		const i = pair.indexOf("=");
		if (i <= 0)
			throw new AppError("validation_failed", `${flag} ${pair}: write it as key=value`, { details: { usage: true } });
		out[pair.slice(0, i)] = pair.slice(i + 1);
	}
	return out;
}
