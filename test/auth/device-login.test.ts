import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testDialects } from "../support/databases.js";
import { startTestServer, type TestServer } from "../support/test-server.js";
import { type OidcService, oidcEnv, oidcService, TestBrowser } from "./oidc-browser.js";

interface DeviceStart {
	device_code: string;
	user_code: string;
	verification_uri: string;
	verification_uri_complete: string | null;
	interval: number;
}

describe.each(testDialects)("terminal login through the device flow (%s)", (dialect) => {
	let t: TestServer;
	let oidc: OidcService;

	beforeAll(async () => {
		oidc = oidcService();
		t = await startTestServer(dialect, { env: oidcEnv(oidc), runScheduler: false });
	});
	afterAll(async () => t?.close());

	const poll = (device_code: string) =>
		t.call("POST", "/api/auth/device/token", { body: { device_code, token_name: "laptop" } });

	it("gives a URL and a code, waits for the person, then answers once with an Orrery token", async () => {
		const start = await t.call("POST", "/api/auth/device");
		expect(start.status).toBe(200);
		const d = (await start.json()) as DeviceStart;
		expect(d.verification_uri).toMatch(new RegExp(`^${oidc.issuer}/`));
		expect(d.user_code).toMatch(/\w/);

		const pending = await poll(d.device_code);
		expect(pending.status).toBe(200);
		expect(await pending.json()).toMatchObject({ status: "pending" });

		await new TestBrowser("bob").visit(d.verification_uri_complete as string, "never");
		const done = await poll(d.device_code);
		expect(done.status).toBe(200);
		const body = (await done.json()) as {
			status: string;
			access_token: string;
			token: { kind: string; name: string; scopes: string[]; expires_at: string };
			user: { email: string; groups: string[] };
		};
		expect(body.status).toBe("complete");
		expect(body.access_token).toMatch(/^orr_/);
		expect(body.token).toMatchObject({ kind: "login", name: "laptop", scopes: ["read", "write", "run"] });
		expect(Date.parse(body.token.expires_at) - Date.now()).toBeGreaterThan(89 * 86_400_000);
		expect(body.user).toMatchObject({ email: "bob@example.test", groups: ["users"] });

		const you = await t.call("GET", "/api/you", { token: body.access_token });
		expect(await you.json()).toMatchObject({ email: "bob@example.test" });

		// Logging out revokes the login token at once.
		const out = await t.call("POST", "/api/auth/logout", { token: body.access_token, bearer: true });
		expect(((await out.json()) as { message: string }).message).toMatch(/revoked/);
		expect((await t.call("GET", "/api/you", { token: body.access_token })).status).toBe(403);
	});

	it("refuses a device code used a second time", async () => {
		const d = (await (await t.call("POST", "/api/auth/device")).json()) as DeviceStart;
		await new TestBrowser("alice").visit(d.verification_uri_complete as string, "never");
		expect((await poll(d.device_code)).status).toBe(200);
		const again = await poll(d.device_code);
		expect(again.status).toBe(403);
		expect(((await again.json()) as { message: string }).message).toMatch(/already used/);
	});

	it("refuses an unknown device code with a clear message", async () => {
		const res = await poll("not-a-device-code");
		expect(res.status).toBe(403);
		expect(((await res.json()) as { message: string }).message).toMatch(/already used or is not known/);
	});

	it("records the login and the token it made", async () => {
		const admin = await t.user("root@example.org", { admin: true });
		const res = await t.call("GET", "/api/audit?type=login,token_created", { token: admin.token });
		const items = ((await res.json()) as { items: Array<{ type: string; actor: string; target: string }> }).items;
		expect(items.some((i) => i.type === "login" && i.target === "device" && i.actor === "bob@example.test")).toBe(true);
		expect(items.some((i) => i.type === "token_created" && i.actor === "bob@example.test")).toBe(true);
	});
});
