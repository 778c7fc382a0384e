import { Ajv } from "ajv";
import { describe, expect, it } from "vitest";
import { ReanaSpecification, type RouteContract, routes, SerialSpecification } from "./schemas.js";

// The server and the spec checker compile schemas without checking them against JSON Schema's
// meta-schema (that check cost ~50 ms of every CLI command's start): it is done here instead.
describe("every schema the server and the spec checker compile", () => {
	const ajv = new Ajv({ strict: false, allErrors: true });
	const problemsOf = (schema: unknown) =>
		ajv.validateSchema(schema as object) === true
			? []
			: (ajv.errors ?? []).map((e) => `${e.instancePath} ${e.message}`);

	it("is a valid JSON schema (every route's params, query, body and responses; reana.yaml's)", () => {
		const checked: string[] = [];
		const invalid: Record<string, string[]> = {};
		const check = (name: string, schema: unknown) => {
			if (schema === undefined || schema === null) return;
			checked.push(name);
			const problems = problemsOf(schema);
			if (problems.length > 0) invalid[name] = problems;
		};
		for (const [id, route] of Object.entries(routes as Record<string, RouteContract>)) {
			check(`${id}.params`, route.params);
			check(`${id}.querystring`, route.querystring);
			check(`${id}.body`, route.body);
			check(`${id}.response`, route.response);
			for (const [status, schema] of Object.entries(route.errorResponses ?? {})) check(`${id}.${status}`, schema);
		}
		check("ReanaSpecification", ReanaSpecification);
		check("SerialSpecification", SerialSpecification);
		expect(invalid).toEqual({});
		expect(checked.length).toBeGreaterThan(Object.keys(routes).length);
	});

	it("catches a schema that is not one (the check can fail)", () => {
		expect(problemsOf({ type: "strng" })).not.toEqual([]);
		expect(problemsOf({ type: "object", properties: { a: { minLength: -1 } } })).not.toEqual([]);
	});
});
