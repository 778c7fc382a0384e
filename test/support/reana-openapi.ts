import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { Ajv, type ValidateFunction } from "ajv";

/** REANA's OpenAPI documents (Swagger 2.0), beside the repository in ../shared/anchors/reana/. */
const anchors = resolve(import.meta.dirname, "../../../shared/anchors/reana");

interface Operation {
	responses: Record<string, { schema?: unknown }>;
}
type Spec = { paths: Record<string, Record<string, Operation>>; definitions?: Record<string, unknown> };

/** reana-server's document, and the newer reana-commons copy (which adds validate and restart). */
export const reanaServerSpec = JSON.parse(readFileSync(`${anchors}/reana-server-openapi.json`, "utf8")) as Spec;
export const reanaCommonsSpec = JSON.parse(
	readFileSync(`${anchors}/reana-commons-openapi-reana_server.json`, "utf8"),
) as Spec;

/** Swagger 2.0's schema dialect → JSON Schema: `x-nullable`, `type: file`, local `$ref`s. */
function toJsonSchema(node: unknown, definitions: Record<string, unknown>): unknown {
	if (Array.isArray(node)) return node.map((n) => toJsonSchema(n, definitions));
	if (!node || typeof node !== "object") return node;
	const o = node as Record<string, unknown>;
	if (typeof o.$ref === "string") {
		const name = o.$ref.replace("#/definitions/", "");
		return toJsonSchema(definitions[name], definitions);
	}
	if (o.type === "file") return {};
	const out: Record<string, unknown> = {};
	for (const [k, v] of Object.entries(o)) {
		if (k === "x-nullable" || k === "example" || k === "examples" || k === "description" || k === "title") continue;
		out[k] =
			k === "properties"
				? Object.fromEntries(Object.entries(v as object).map(([p, s]) => [p, toJsonSchema(s, definitions)]))
				: toJsonSchema(v, definitions);
	}
	return o["x-nullable"] === true ? { anyOf: [out, { type: "null" }] } : out;
}

const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: false });
const cache = new Map<string, ValidateFunction | null>();

/** The REANA operations: method and path template, with a regular expression matching real URLs. */
export function reanaOperations(
	spec: Spec = reanaServerSpec,
): Array<{ method: string; path: string; pattern: RegExp }> {
	return Object.entries(spec.paths).flatMap(([path, ops]) =>
		Object.keys(ops).map((method) => ({
			method: method.toUpperCase(),
			path,
			pattern: new RegExp(
				`^${path
					.replace(/\{file_name\}/, ".+")
					.replace(/\{[^}]+\}/g, "[^/]+")
					.replace(/\/$/, "/?")}$`,
			),
		})),
	);
}

/** Finds the REANA operation a request hits (in reana-server's document, else the commons one). */
export function operationFor(method: string, url: string): { spec: Spec; path: string; op: Operation } | undefined {
	const path = url.split("?")[0] as string;
	for (const spec of [reanaServerSpec, reanaCommonsSpec]) {
		// Literal paths win over templated ones (/api/workflows/validate before /api/workflows/{id}).
		const candidates = reanaOperations(spec)
			.filter((o) => o.method === method && o.pattern.test(path))
			.sort((a, b) => (a.path.match(/\{/g)?.length ?? 0) - (b.path.match(/\{/g)?.length ?? 0));
		const hit = candidates[0];
		if (hit)
			return {
				spec,
				path: hit.path,
				op: (spec.paths[hit.path] as Record<string, Operation>)[method.toLowerCase()] as Operation,
			};
	}
	return undefined;
}

/** Checks a response against REANA's document: a documented status, and a body of the documented shape. */
export function checkAgainstReana(method: string, url: string, status: number, body: unknown): string[] {
	const found = operationFor(method, url);
	if (!found) return [`${method} ${url} is not a REANA operation`];
	const response = found.op.responses[String(status)];
	if (!response)
		return [
			`${method} ${found.path} answered ${status}, which REANA's document does not list (${Object.keys(found.op.responses).join(", ")})`,
		];
	if (!response.schema) return [];
	const key = `${method} ${found.path} ${status} ${found.spec === reanaServerSpec ? "server" : "commons"}`;
	let validate = cache.get(key);
	if (validate === undefined) {
		validate = ajv.compile(toJsonSchema(response.schema, found.spec.definitions ?? {}) as object);
		cache.set(key, validate);
	}
	if (!validate || validate(body)) return [];
	return (validate.errors ?? []).map((e) => `${method} ${found.path} ${status}: body${e.instancePath} ${e.message}`);
}
