import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testDialects } from "../support/databases.js";
import { startTestServer, type TestServer } from "../support/test-server.js";

interface TokenInfo {
	id: string;
	name: string;
	prefix: string;
	scopes: string[];
	kind: string;
	status: string;
	user_email: string;
	created_at: string;
	last_used_at: string | null;
	expires_at: string | null;
}

const day = 86_400_000;

describe.each(testDialects)("personal access tokens (%s)", (dialect) => {
	let t: TestServer;
	let alice: { id: string; token: string };
	let bob: { id: string; token: string };
	let admin: { id: string; token: string };

	beforeAll(async () => {
		t = await startTestServer(dialect, { env: { ORRERY_TOKEN_MAX_DAYS: "180" }, runScheduler: false });
		alice = await t.user("alice@example.org");
		bob = await t.user("bob@example.org");
		admin = await t.user("admin@example.org", { admin: true });
	});
	afterAll(async () => t?.close());

	async function create(token: string, body: Record<string, unknown>): Promise<Response> {
		return t.call("POST", "/api/tokens", { token, body });
	}
	async function created(token: string, body: Record<string, unknown>) {
		const res = await create(token, body);
		expect(res.status).toBe(201);
		return (await res.json()) as { access_token: string; token: TokenInfo; message: string };
	}
	const message = async (res: Response) => ((await res.json()) as { message: string }).message;

	it("creates a token shown once, expiring in 90 days by default, usable as REANA's access_token", async () => {
		const res = await created(alice.token, { name: "laptop", scopes: ["read"] });
		expect(res.access_token).toMatch(/^orr_[0-9A-Za-z]{43}$/);
		expect(res.message).toMatch(/not shown again/);
		expect(res.token).toMatchObject({ name: "laptop", scopes: ["read"], kind: "personal", status: "active" });
		expect(res.token.prefix).toBe(res.access_token.slice(0, 12));
		const expires = Date.parse(res.token.expires_at as string) - Date.now();
		expect(expires).toBeGreaterThan(89.9 * day);
		expect(expires).toBeLessThan(90.1 * day);

		const viaQuery = await t.call("GET", "/api/you", { token: res.access_token });
		expect(await viaQuery.json()).toMatchObject({ email: "alice@example.org" });
		const list = (await (await t.call("GET", "/api/tokens", { token: alice.token })).json()) as { items: TokenInfo[] };
		const listed = list.items.find((i) => i.id === res.token.id) as TokenInfo;
		expect(listed.last_used_at).not.toBeNull();
		expect(JSON.stringify(list)).not.toContain(res.access_token);
		expect(Object.keys(listed).sort()).toEqual(
			[
				"created_at",
				"expires_at",
				"id",
				"kind",
				"last_used_at",
				"name",
				"prefix",
				"revoked_at",
				"scopes",
				"status",
				"user_email",
			].sort(),
		);
	});

	it("honours the expiry asked for within the server's maximum", async () => {
		const res = await created(alice.token, { name: "short", expires_in_days: 7 });
		expect(Date.parse(res.token.expires_at as string) - Date.now()).toBeLessThan(7.01 * day);
		const long = await create(alice.token, { name: "long", expires_in_days: 181 });
		expect(long.status).toBe(400);
		expect(await message(long)).toMatch(/at most 180 days/);
		const never = await create(alice.token, { name: "never", expires_in_days: 0 });
		expect(never.status).toBe(400);
		expect(await message(never)).toMatch(/must expire/);
	});

	it("refuses scopes beyond the creating credential's, and admin for non-admins", async () => {
		const readOnly = await created(alice.token, { name: "ro", scopes: ["read", "write"] });
		const escalate = await create(readOnly.access_token, { name: "more", scopes: ["run"] });
		expect(escalate.status).toBe(403);
		expect(await message(escalate)).toMatch(/cannot have scopes the credential creating it lacks \(run\)/);
		const adminScope = await create(alice.token, { name: "root", scopes: ["admin"] });
		expect(adminScope.status).toBe(403);
		expect(await message(adminScope)).toMatch(/only administrators/);
		const unknown = await create(alice.token, { name: "odd", scopes: ["delete"] });
		expect(unknown.status).toBe(400);
		const byAdmin = await created(admin.token, { name: "ops", scopes: ["read", "admin"] });
		expect(byAdmin.token.scopes).toEqual(["read", "admin"]);
	});

	it("refuses to manage tokens with a token lacking the write scope", async () => {
		const ro = await created(alice.token, { name: "reader", scopes: ["read"] });
		const res = await create(ro.access_token, { name: "x" });
		expect(res.status).toBe(403);
		expect(await message(res)).toMatch(/lacks the 'write' scope/);
		const list = await t.call("GET", "/api/tokens", { token: ro.access_token });
		expect(list.status).toBe(200);
	});

	it("revokes a token at once, by id or prefix; a second revocation is a conflict", async () => {
		const a = await created(alice.token, { name: "doomed" });
		const b = await created(alice.token, { name: "doomed too" });
		expect((await t.call("GET", "/api/you", { token: a.access_token })).status).toBe(200);
		const revoked = await t.call("DELETE", `/api/tokens/${a.token.id}`, { token: alice.token });
		expect(revoked.status).toBe(200);
		expect(((await revoked.json()) as { token: TokenInfo }).token.status).toBe("revoked");
		const use = await t.call("GET", "/api/you", { token: a.access_token });
		expect(use.status).toBe(403);
		expect(await message(use)).toMatch(/revoked/);
		expect((await t.call("DELETE", `/api/tokens/${b.token.prefix}`, { token: alice.token })).status).toBe(200);
		const again = await t.call("DELETE", `/api/tokens/${a.token.id}`, { token: alice.token });
		expect(again.status).toBe(409);
		const missing = await t.call("DELETE", "/api/tokens/orr_nothing1", { token: alice.token });
		expect(missing.status).toBe(404);
	});

	it("keeps users to their own tokens and lets administrators list and revoke anyone's", async () => {
		const bobs = await created(bob.token, { name: "bob's" });
		const steal = await t.call("DELETE", `/api/tokens/${bobs.token.id}`, { token: alice.token });
		expect(steal.status).toBe(403);
		expect((await t.call("GET", "/api/tokens?all=true", { token: alice.token })).status).toBe(403);
		expect((await t.call("GET", "/api/tokens?user=bob@example.org", { token: alice.token })).status).toBe(403);

		const all = (await (await t.call("GET", "/api/tokens?all=true", { token: admin.token })).json()) as {
			items: TokenInfo[];
		};
		expect(new Set(all.items.map((i) => i.user_email))).toEqual(
			new Set(["alice@example.org", "bob@example.org", "admin@example.org"]),
		);
		const onlyBob = (await (
			await t.call("GET", "/api/tokens?user=bob@example.org", { token: admin.token })
		).json()) as {
			items: TokenInfo[];
		};
		expect(onlyBob.items.every((i) => i.user_email === "bob@example.org")).toBe(true);
		const revoke = await t.call("DELETE", `/api/tokens/${bobs.token.id}`, { token: admin.token });
		expect(revoke.status).toBe(200);
		expect((await t.call("GET", "/api/you", { token: bobs.access_token })).status).toBe(403);
	});

	it("refuses expired, malformed and tampered tokens with 403 and no credentials with 401", async () => {
		const old = await t.user("old@example.org", { expiresAt: new Date(Date.now() - 1000) });
		const expired = await t.call("GET", "/api/you", { token: old.token });
		expect(expired.status).toBe(403);
		expect(await message(expired)).toMatch(/expired at/);
		const last = alice.token.at(-1) === "a" ? "b" : "a";
		for (const bad of [`${alice.token.slice(0, -1)}${last}`, "orr_short", "orr_!!!!", "", "Bearer"]) {
			const res = await t.call("GET", "/api/workflows", { token: bad, bearer: true });
			expect(res.status, JSON.stringify(bad)).toBe(bad === "" ? 401 : 403);
		}
		expect((await t.call("GET", "/api/tokens")).status).toBe(401);
	});

	it("records token creation, revocation and denials in the audit log, for administrators only", async () => {
		expect((await t.call("GET", "/api/audit", { token: alice.token })).status).toBe(403);
		const res = await t.call("GET", "/api/audit?limit=1000", { token: admin.token });
		const items = ((await res.json()) as { items: Array<{ type: string; actor: string | null; message: string }> })
			.items;
		const types = new Set(items.map((i) => i.type));
		for (const type of ["token_created", "token_revoked", "permission_denied", "auth_failed"])
			expect(types).toContain(type);
		// Never a token value, only prefixes.
		expect(JSON.stringify(items)).not.toContain(alice.token);
		expect(items.find((i) => i.type === "permission_denied" && i.actor === "alice@example.org")).toBeDefined();
	});
});

describe("rate limiting of failed authentications", () => {
	let t: TestServer;

	beforeAll(async () => {
		t = await startTestServer("sqlite", {
			env: {
				// The test speaks as several addresses through X-Forwarded-For, as a reverse proxy would.
				ORRERY_TRUST_PROXY: "true",
				ORRERY_AUTH_FAILURES_PER_TOKEN: "3",
				ORRERY_AUTH_FAILURES_PER_IP: "5",
				ORRERY_AUTH_FAILURE_WINDOW_SECONDS: "2",
			},
			runScheduler: false,
		});
	});
	afterAll(async () => t?.close());

	const from = (ip: string) => ({ "x-forwarded-for": ip });

	it("answers 429 with Retry-After once a token prefix failed too often (guesses only: the real token still works)", async () => {
		const good = await t.user("carol@example.org");
		const wrong = `${good.token.slice(0, 12)}${"x".repeat(43 - 8)}`;
		for (let i = 0; i < 3; i++) {
			expect((await t.call("GET", "/api/you", { token: wrong, headers: from(`10.0.0.${i}`) })).status).toBe(403);
		}
		const limited = await t.call("GET", "/api/you", { token: wrong, headers: from("10.0.0.9") });
		expect(limited.status).toBe(429);
		expect(Number(limited.headers.get("retry-after"))).toBeGreaterThan(0);
		const body = (await limited.json()) as { message: string; code: string };
		expect(body.code).toBe("rate_limited");
		expect(body.message).toMatch(
			new RegExp(`too many failed authentications with the token ${good.token.slice(0, 12)}`),
		);
		// The real token is not locked out by others' guesses at its prefix.
		expect((await t.call("GET", "/api/you", { token: good.token, headers: from("10.0.0.8") })).status).toBe(200);
		await new Promise((r) => setTimeout(r, 2100));
		expect((await t.call("GET", "/api/you", { token: good.token, headers: from("10.0.0.9") })).status).toBe(200);
	});

	it("answers 429 to an address that failed too often, whatever token it sends next", async () => {
		const good = await t.user("dave@example.org");
		for (let i = 0; i < 5; i++) {
			const res = await t.call("GET", "/api/you", { token: `orr_guess${i}xxxxxxxx`, headers: from("10.1.1.1") });
			expect(res.status).toBe(403);
		}
		const blocked = await t.call("GET", "/api/you", { token: good.token, headers: from("10.1.1.1") });
		expect(blocked.status).toBe(429);
		expect(((await blocked.json()) as { message: string }).message).toMatch(/from 10\.1\.1\.1/);
		expect((await t.call("GET", "/api/you", { token: good.token, headers: from("10.1.1.2") })).status).toBe(200);
		const admin = await t.user("root@example.org", { admin: true });
		const audit = await t.call("GET", "/api/audit?type=rate_limited", {
			token: admin.token,
			headers: from("10.2.2.2"),
		});
		expect(((await audit.json()) as { items: unknown[] }).items.length).toBeGreaterThan(0);
	});
});
