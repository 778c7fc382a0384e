import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../support/test-server.js";

describe("a specification nested too deeply for the server to walk", () => {
	let t: TestServer;
	let token: string;
	beforeAll(async () => {
		t = await startTestServer("sqlite");
		token = (await t.user("nested@example.org")).token;
	});
	afterAll(async () => t?.close());

	// 100,000 nested lists as JSON text: building it as an object would take JSON.stringify's stack.
	const body = (depth: number) =>
		`{"inputs":{"parameters":{"x":${"[".repeat(depth)}1${"]".repeat(depth)}}},` +
		`"workflow":{"type":"serial","specification":{"steps":[{"commands":["echo"]}]}}}`;

	it.each([
		["creating", "/api/workflows?workflow_name=deep"],
		["validating", "/api/workflows/validate"],
	])("answers 400 with a one-line message when %s it", async (_, path) => {
		const res = await t.call("POST", path, {
			token,
			raw: body(100_000),
			headers: { "content-type": "application/json" },
		});
		const answer = (await res.json()) as { message: string };
		if (path.includes("validate")) expect(res.status).toBe(200);
		else expect(res.status).toBe(400);
		expect(answer.message).toMatch(
			/^reana\.yaml at inputs\.parameters\.x\[0\]…: lists and mappings are nested more than 200 levels deep here \(hint: /,
		);
		expect(answer.message).not.toContain("\n");
	});

	it("still takes a specification nested to a reasonable depth", async () => {
		const res = await t.call("POST", "/api/workflows?workflow_name=nested", {
			token,
			raw: body(50),
			headers: { "content-type": "application/json" },
		});
		expect(res.status).toBe(201);
	});
});
