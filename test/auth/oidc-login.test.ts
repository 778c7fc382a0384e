import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureGroups, findUserByEmail, listGroupsOfUser, replaceMemberships } from "../../src/db/index.js";
import { testDialects } from "../support/databases.js";
import { startTestServer, type TestServer } from "../support/test-server.js";
import { type OidcService, oidcEnv, oidcService, TestBrowser } from "./oidc-browser.js";

describe.each(testDialects)("OIDC login against the real provider (%s)", (dialect) => {
	let t: TestServer;
	let oidc: OidcService;

	beforeAll(async () => {
		oidc = oidcService();
		t = await startTestServer(dialect, {
			env: oidcEnv(oidc, { ORRERY_OIDC_ADMIN_GROUPS: "admins", ORRERY_PUBLIC_URL: "http://127.0.0.1:1" }),
			runScheduler: false,
		});
	});
	afterAll(async () => t?.close());

	/** The browser login: to the provider and back, as the redirect URI forwards to Orrery's callback. */
	async function browserLogin(browser: TestBrowser, next?: string): Promise<Response> {
		const start = await browser.fetch(`${t.url}/api/auth/login${next ? `?next=${encodeURIComponent(next)}` : ""}`);
		expect(start.status).toBe(302);
		const authorize = new URL(start.headers.get("location") as string);
		expect(authorize.origin).toBe(oidc.issuer);
		expect(authorize.searchParams.get("code_challenge_method")).toBe("S256");
		expect(authorize.searchParams.get("redirect_uri")).toBe(oidc.redirectUri);
		const back = await browser.visit(authorize.href, oidc.redirectUri);
		return browser.fetch(`${t.url}/api/auth/callback${back.search}`);
	}

	it("logs a person in through the browser (code + PKCE), creating the user, their groups and a session cookie", async () => {
		const browser = new TestBrowser("alice");
		const done = await browserLogin(browser);
		expect(done.status).toBe(302);
		const location = done.headers.get("location") as string;
		expect(location).toMatch(/^\/signin#access_token=orrs_/);
		const session = browser.cookies(t.url).get("orrery_session");
		expect(session).toMatch(/^orrs_/);
		expect(done.headers.getSetCookie().join("\n")).toMatch(/orrery_session=.*HttpOnly; SameSite=Lax/);

		// The web UI uses the fragment's value as a Bearer credential.
		const bearer = decodeURIComponent(location.split("access_token=")[1] as string);
		const you = await t.call("GET", "/api/you", { token: bearer, bearer: true });
		expect(you.status).toBe(200);
		expect(await you.json()).toMatchObject({ email: "alice@example.test", full_name: "Alice Test", role: "admin" });
		const groups = (await (await t.call("GET", "/api/you/groups", { token: bearer, bearer: true })).json()) as {
			items: Array<{ name: string }>;
		};
		expect(groups.items.map((g) => g.name)).toEqual(["admins", "users"]);
		// The cookie alone is no credential for the API (only for signing out and entering sessions).
		expect((await browser.fetch(`${t.url}/api/you`)).status).toBe(401);
	});

	it("returns to a local `next` path, never to another site", async () => {
		const browser = new TestBrowser("bob");
		const done = await browserLogin(browser, "/runs?page=2");
		expect(done.headers.get("location")).toBe("/runs?page=2");
		const evil = await browserLogin(new TestBrowser("bob"), "//evil.example/steal");
		expect(evil.headers.get("location")).toMatch(/^\/signin#access_token=/);
	});

	it("refreshes a person's groups at each login and keeps one user per identity", async () => {
		const bob = await findUserByEmail(t.server.db, "bob@example.test");
		expect(bob).toBeDefined();
		const stale = await ensureGroups(t.server.db, ["left-collaboration"], new Date().toISOString());
		await replaceMemberships(
			t.server.db,
			bob!.id,
			stale.map((g) => g.id),
			new Date().toISOString(),
		);
		await browserLogin(new TestBrowser("bob"));
		const after = await listGroupsOfUser(t.server.db, bob!.id);
		expect(after.map((g) => g.name)).toEqual(["users"]);
		expect((await findUserByEmail(t.server.db, "bob@example.test"))?.id).toBe(bob!.id);
		expect(bob?.role).toBe("user");
	});

	it("takes no API request on the cookie alone, from another site (CSRF) or from a page on its own origin", async () => {
		// A page on this origin need not be the UI's: a notebook in an interactive session runs its
		// author's code here, and must not act as whoever visits it.
		const browser = new TestBrowser("alice");
		const done = await browserLogin(browser);
		const bearer = decodeURIComponent((done.headers.get("location") as string).split("access_token=")[1] as string);
		const body = JSON.stringify({ name: "from the web" });
		const headers = { "content-type": "application/json" };
		const forged = await browser.fetch(`${t.url}/api/tokens`, { method: "POST", body, headers });
		expect(forged.status).toBe(401);
		const sameOrigin = await browser.fetch(`${t.url}/api/tokens`, {
			method: "POST",
			body,
			headers: { ...headers, origin: t.url },
		});
		expect(sameOrigin.status).toBe(401);
		const own = await browser.fetch(`${t.url}/api/tokens`, {
			method: "POST",
			body,
			headers: { ...headers, origin: t.url, authorization: `Bearer ${bearer}` },
		});
		expect(own.status).toBe(201);
	});

	it("ends the web session at logout, at once", async () => {
		const browser = new TestBrowser("alice");
		await browserLogin(browser);
		const session = browser.cookies(t.url).get("orrery_session") as string;
		const out = await browser.fetch(`${t.url}/api/auth/logout`, { method: "POST", headers: { origin: t.url } });
		expect(out.status).toBe(200);
		expect(browser.cookies(t.url).has("orrery_session")).toBe(false);
		const reuse = await t.call("GET", "/api/you", { token: session, bearer: true });
		expect(reuse.status).toBe(403);
		expect(((await reuse.json()) as { message: string }).message).toMatch(/session has ended/);
	});

	it("refuses a callback whose state does not match this browser, or that was never started here", async () => {
		const browser = new TestBrowser("alice");
		const start = await browser.fetch(`${t.url}/api/auth/login`);
		const authorize = new URL(start.headers.get("location") as string);
		const back = await browser.visit(authorize.href, oidc.redirectUri);
		const tampered = new URLSearchParams(back.search);
		tampered.set("state", "not-the-state");
		const bad = await browser.fetch(`${t.url}/api/auth/callback?${tampered}`);
		expect(bad.status).toBe(403);
		expect(((await bad.json()) as { message: string }).message).toMatch(/state does not match/);
		const stranger = await fetch(`${t.url}/api/auth/callback${back.search}`, { redirect: "manual" });
		expect(stranger.status).toBe(403);
		expect(((await stranger.json()) as { message: string }).message).toMatch(/not started here/);
		const denied = await browser.fetch(`${t.url}/api/auth/callback?error=access_denied&error_description=nope`);
		expect(denied.status).toBe(403);
	});

	it("records logins in the audit log", async () => {
		const admin = await t.user("root@example.org", { admin: true });
		const res = await t.call("GET", "/api/audit?type=login,login_failed", { token: admin.token });
		const items = ((await res.json()) as { items: Array<{ type: string; actor: string | null; target: string }> })
			.items;
		expect(items.some((i) => i.type === "login" && i.actor === "alice@example.test" && i.target === "web")).toBe(true);
		expect(items.some((i) => i.type === "login_failed")).toBe(true);
	});

	it("describes how to log in", async () => {
		const cfg = await (await t.call("GET", "/api/auth/config")).json();
		expect(cfg).toMatchObject({
			oidc_enabled: true,
			issuer: oidc.issuer,
			login_url: "/api/auth/login",
			device_login: true,
			provider_tokens: true,
			token_default_days: 90,
		});
	});
});
