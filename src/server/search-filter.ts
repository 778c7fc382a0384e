import { AppError } from "../common/index.js";

/**
 * A listing's `search` parameter. reana-client sends `--filter` as a JSON object of lists
 * (`{"name": ["myana"], "size": ["42"]}`), which REANA decodes; Orrery's own clients send plain
 * text, matched as part of the name.
 */
export type SearchFilter = { kind: "text"; text: string } | { kind: "fields"; fields: Record<string, string[]> };

/** Reads a `search` parameter; a JSON object may name only the given fields (REANA answers 500 for others, Orrery 400). */
export function parseSearch(search: string | undefined, fields: readonly string[]): SearchFilter | undefined {
	if (search === undefined || search === "") return undefined;
	let value: unknown;
	try {
		value = JSON.parse(search);
	} catch {
		return { kind: "text", text: search };
	}
	if (typeof value !== "object" || value === null || Array.isArray(value)) return { kind: "text", text: search };
	const out: Record<string, string[]> = {};
	for (const [key, raw] of Object.entries(value)) {
		if (!fields.includes(key)) {
			throw new AppError("validation_failed", `cannot filter by '${key}'; use ${fields.join(", ")}`);
		}
		const list = (Array.isArray(raw) ? raw : [raw]).filter((v) => v !== null && v !== undefined).map(String);
		if (list.length > 0) out[key] = list;
	}
	return { kind: "fields", fields: out };
}

/**
 * REANA's `ls --filter`: every value of every field must occur in that field, ignoring case
 * (reana-workflow-controller's `list_files_filter`; `size` is the size in bytes as text).
 */
export function matchesEveryField(filter: Record<string, string[]>, values: Record<string, string>): boolean {
	return Object.entries(filter).every(([key, wanted]) => {
		const have = (values[key] ?? "").toLowerCase();
		return wanted.every((w) => have.includes(w.toLowerCase()));
	});
}
