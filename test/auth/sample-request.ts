import type { RouteContract } from "../../src/contract/schemas.js";

/** A request the route matrix sends: the path with its query, and a JSON or raw body. */
export interface MatrixRequest {
	params: Record<string, string>;
	query: Record<string, unknown>;
	body: unknown;
	raw: string | undefined;
}

/** The resources the matrix created for the request (a run of the owner, a token of the owner). */
export interface MatrixFixture {
	workflowId: string;
	tokenId: string;
}

interface JsonSchema {
	type?: string;
	const?: unknown;
	anyOf?: JsonSchema[];
	properties?: Record<string, JsonSchema>;
	required?: string[];
	minimum?: number;
	minLength?: number;
	default?: unknown;
}

/** The smallest value a schema accepts: required properties only, the first alternative, minimum lengths. */
export function sampleValue(schema: JsonSchema | undefined): unknown {
	if (!schema) return undefined;
	if (schema.const !== undefined) return schema.const;
	if (schema.default !== undefined) return schema.default;
	if (schema.anyOf) return sampleValue(schema.anyOf[0]);
	switch (schema.type) {
		case "object": {
			const out: Record<string, unknown> = {};
			for (const key of schema.required ?? []) out[key] = sampleValue(schema.properties?.[key]);
			return out;
		}
		case "array":
			return [];
		case "string":
			return "x".repeat(Math.max(1, schema.minLength ?? 1));
		case "integer":
		case "number":
			return schema.minimum ?? 1;
		case "boolean":
			return false;
		default:
			return "x";
	}
}

/** A request that passes a route's validation, aimed at the fixture's run or token. */
export function sampleRequest(
	r: RouteContract,
	fixture: MatrixFixture,
	overrides: Partial<MatrixRequest> = {},
): MatrixRequest & { path: string } {
	const params: Record<string, string> = {};
	for (const name of [...r.url.matchAll(/:([A-Za-z_]+)/g)].map((m) => m[1] as string)) {
		params[name] = /workflow/.test(name)
			? fixture.workflowId
			: name === "token_id"
				? fixture.tokenId
				: "00000000-0000-4000-8000-000000000000";
	}
	if (r.url.includes("*")) params["*"] = "results/file.txt";
	Object.assign(params, overrides.params ?? {});
	const query = {
		...(sampleValue(r.querystring as JsonSchema | undefined) as Record<string, unknown> | undefined),
		...(overrides.query ?? {}),
	};
	const isRaw = r.consumes?.includes("application/octet-stream") ?? false;
	const body =
		overrides.body ?? (r.body ? sampleValue(r.body as JsonSchema) : r.method === "GET" || isRaw ? undefined : {});
	let path = r.url.replace(/:([A-Za-z_]+)/g, (_, name: string) => encodeURIComponent(params[name] ?? ""));
	path = path.replace("*", params["*"] ?? "");
	const search = new URLSearchParams();
	for (const [k, v] of Object.entries(query)) if (v !== undefined) search.set(k, String(v));
	const qs = search.toString();
	return {
		params,
		query,
		body: isRaw ? undefined : body,
		raw: isRaw ? (overrides.raw ?? "matrix") : undefined,
		path: qs ? `${path}?${qs}` : path,
	};
}
