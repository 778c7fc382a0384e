import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testDialects } from "../support/databases.js";
import { checkAgainstReana } from "../support/reana-openapi.js";
import { startTestServer, type TestServer } from "../support/test-server.js";

const spec = { workflow: { type: "serial", specification: { steps: [{ commands: ["true"] }] } } };

describe.each(testDialects)("REANA's sharing and token endpoints, checked against REANA's document (%s)", (dialect) => {
	let t: TestServer;
	let alice: string;
	let bob: string;
	const violations: string[] = [];

	/** Calls like reana-client (access_token in the query) and checks the answer against REANA's OpenAPI document. */
	async function call(
		method: string,
		path: string,
		options: { token?: string; body?: unknown; headers?: Record<string, string> } = {},
	): Promise<{ status: number; body: Record<string, unknown> }> {
		const res = await t.call(method, path, {
			...(options.token ? { token: options.token } : {}),
			...(options.body === undefined ? {} : { body: options.body }),
			...(options.headers ? { headers: options.headers } : {}),
		});
		const body = (await res.json()) as Record<string, unknown>;
		violations.push(...checkAgainstReana(method, path, res.status, body));
		return { status: res.status, body };
	}

	beforeAll(async () => {
		t = await startTestServer(dialect, {
			env: { ORRERY_TOKEN_MANAGEMENT_SECRET: "token-secret" },
			runScheduler: false,
		});
		alice = (await t.user("alice@example.org")).token;
		bob = (await t.user("bob@example.org")).token;
	});
	afterAll(async () => t?.close());

	it("shares, reports, lists and unshares with REANA's request and answer shapes", async () => {
		const made = await t.call("POST", "/api/workflows?workflow_name=mytest", { token: alice, body: spec });
		const { workflow_id } = (await made.json()) as { workflow_id: string };
		const shared = await call("POST", "/api/workflows/mytest.1/share", {
			token: alice,
			body: { user_email_to_share_with: "bob@example.org", message: "look", valid_until: "2999-11-24" },
		});
		expect(shared).toMatchObject({ status: 200, body: { workflow_id, workflow_name: "mytest.1" } });
		expect(
			(
				await call("POST", "/api/workflows/mytest.1/share", {
					token: alice,
					body: { user_email_to_share_with: "bob@example.org" },
				})
			).status,
		).toBe(409);
		expect(
			(
				await call("POST", "/api/workflows/mytest.1/share", {
					token: alice,
					body: { user_email_to_share_with: "x@example.org" },
				})
			).status,
		).toBe(404);
		const status = await call("GET", "/api/workflows/mytest.1/share-status", { token: alice });
		expect(status.body.shared_with).toEqual([
			expect.objectContaining({ user_email: "bob@example.org", valid_until: "2999-11-24T23:59:59.999Z" }),
		]);
		expect((await call("GET", "/api/users/shared-with-you", { token: bob })).body.users).toEqual([
			{ email: "alice@example.org" },
		]);
		expect((await call("GET", "/api/users/you-shared-with", { token: alice })).body.users).toEqual([
			{ email: "bob@example.org" },
		]);
		const listed = await call("GET", "/api/workflows?type=batch&shared=true", { token: bob });
		expect((listed.body.items as Array<{ name: string }>).map((i) => i.name)).toEqual(["mytest.1"]);
		const un = await call("POST", "/api/workflows/mytest.1/unshare?user_email_to_unshare_with=bob@example.org", {
			token: alice,
		});
		expect(un.status).toBe(200);
		expect(
			(
				await call("POST", "/api/workflows/mytest.1/unshare?user_email_to_unshare_with=bob@example.org", {
					token: alice,
				})
			).status,
		).toBe(409);
		expect((await call("GET", "/api/workflows/mytest.1/share-status", { token: "orr_notatoken" })).status).toBe(403);
		expect((await call("GET", "/api/users/shared-with-you")).status).toBe(401);
	});

	it("answers REANA's token request, and revokes a user's tokens with the token management secret", async () => {
		const requested = await call("PUT", "/api/token", { token: alice });
		expect(requested).toMatchObject({ status: 200, body: { reana_token: { status: "active" } } });
		const wrong = await call("DELETE", "/api/token", {
			body: { email: "bob@example.org" },
			headers: { "x-token-management-secret": "nope" },
		});
		expect(wrong.status).toBe(403);
		const ok = await call("DELETE", "/api/token", {
			body: { email: "bob@example.org" },
			headers: { "x-token-management-secret": "token-secret" },
		});
		expect(ok).toMatchObject({ status: 200, body: { email: "bob@example.org", reana_token: { status: "revoked" } } });
		expect((await t.call("GET", "/api/you", { token: bob })).status).toBe(403);
		const none = await call("DELETE", "/api/token", {
			body: { email: "bob@example.org" },
			headers: { "x-token-management-secret": "token-secret" },
		});
		expect(none.status).toBe(404);
		const both = await call("DELETE", "/api/token", {
			body: { email: "bob@example.org", user_id: "x" },
			headers: { "x-token-management-secret": "token-secret" },
		});
		expect(both.status).toBe(400);
		// The secret works on /api/token only.
		expect(
			(await t.call("GET", "/api/tokens", { headers: { "x-token-management-secret": "token-secret" } })).status,
		).toBe(401);
	});

	it("matched REANA's document everywhere", () => {
		expect(violations).toEqual([]);
	});
});
