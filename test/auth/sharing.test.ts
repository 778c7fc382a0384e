import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testDialects } from "../support/databases.js";
import { startTestServer, type TestServer, waitForStatus } from "../support/test-server.js";
import { oidcEnv, oidcService, TestBrowser } from "./oidc-browser.js";

const spec = { workflow: { type: "serial", specification: { steps: [{ name: "s", commands: ["echo hi"] }] } } };

interface Person {
	id: string;
	token: string;
}

describe.each(testDialects)("sharing workflows with users and groups (%s)", (dialect) => {
	let t: TestServer;
	let alice: Person;
	let bob: Person;
	let carol: Person;
	let erin: Person;
	let admin: Person;
	/** A person who logged in through the real provider as `bob`, whose groups claim is ["users"]. */
	let member: string;

	beforeAll(async () => {
		const oidc = oidcService();
		t = await startTestServer(dialect, { env: oidcEnv(oidc) });
		alice = await t.user("alice@example.org");
		bob = await t.user("bob@example.org");
		carol = await t.user("carol@example.org");
		erin = await t.user("erin@example.org");
		admin = await t.user("admin@example.org", { admin: true });
		const browser = new TestBrowser("bob");
		const start = await browser.fetch(`${t.url}/api/auth/login`);
		const back = await browser.visit(start.headers.get("location") as string, oidc.redirectUri);
		const done = await browser.fetch(`${t.url}/api/auth/callback${back.search}`);
		member = decodeURIComponent((done.headers.get("location") as string).split("access_token=")[1] as string);
	});
	afterAll(async () => t?.close());

	const message = async (res: Response) => ((await res.json()) as { message: string }).message;
	async function create(name: string): Promise<{ workflow_id: string; workflow_name: string }> {
		const res = await t.call("POST", `/api/workflows?workflow_name=${name}`, { token: alice.token, body: spec });
		expect(res.status).toBe(201);
		return (await res.json()) as { workflow_id: string; workflow_name: string };
	}
	async function share(workflow: string, body: Record<string, unknown>, token = alice.token): Promise<Response> {
		return t.call("POST", `/api/workflows/${workflow}/share`, { token, body });
	}

	it("shares a run read-only with a user by email (REANA's share-add), who may read but not change or run it", async () => {
		const wf = await create("reading");
		const res = await share(wf.workflow_name, { user_email_to_share_with: "bob@example.org", message: "have a look" });
		expect(res.status).toBe(200);
		expect(await res.json()).toMatchObject({ workflow_id: wf.workflow_id, workflow_name: "reading.1" });
		for (const path of ["status", "logs", "specification", "workspace"]) {
			const r = await t.call("GET", `/api/workflows/${wf.workflow_id}/${path}`, { token: bob.token });
			expect(r.status, path).toBe(200);
		}
		const startIt = await t.call("POST", `/api/workflows/${wf.workflow_id}/start`, { token: bob.token, body: {} });
		expect(startIt.status).toBe(403);
		expect(await message(startIt)).toMatch(/shared with bob@example\.org for 'read' only/);
		const upload = await t.call("POST", `/api/workflows/${wf.workflow_id}/workspace?file_name=x.txt`, {
			token: bob.token,
			raw: "x",
		});
		expect(upload.status).toBe(403);
		const onward = await share(wf.workflow_id, { user_email_to_share_with: "carol@example.org" }, bob.token);
		expect(onward.status).toBe(403);
		expect((await t.call("GET", `/api/workflows/${wf.workflow_id}/status`, { token: carol.token })).status).toBe(403);
	});

	it("lets a run share start the run, but not delete it", async () => {
		const wf = await create("running");
		expect(
			(await share(wf.workflow_id, { user_email_to_share_with: "carol@example.org", permission: "run" })).status,
		).toBe(200);
		const started = await t.call("POST", `/api/workflows/${wf.workflow_id}/start`, { token: carol.token, body: {} });
		expect(started.status).toBe(200);
		const del = await t.call("PUT", `/api/workflows/${wf.workflow_id}/status?status=deleted`, {
			token: carol.token,
			body: {},
		});
		expect(del.status).toBe(403);
		// Restarting with commands of their own (a new specification) changes the run: not for a run share.
		await waitForStatus(t, carol.token, wf.workflow_id);
		const ownCommands = {
			restart: true,
			reana_specification: {
				workflow: { type: "serial", specification: { steps: [{ commands: ["env > leak.txt"] }] } },
			},
		};
		for (const [method, path] of [
			["POST", `/api/workflows/${wf.workflow_id}/start`],
			["PUT", `/api/workflows/${wf.workflow_id}/status?status=start`],
		] as const) {
			const restart = await t.call(method, path, { token: carol.token, body: ownCommands });
			expect(restart.status, path).toBe(403);
			expect(await message(restart)).toMatch(/shared with carol@example\.org for 'run' only/);
		}
		// The same restart without a new specification is running the run: allowed.
		const again = await t.call("POST", `/api/workflows/${wf.workflow_id}/start`, {
			token: carol.token,
			body: { restart: true },
		});
		expect(again.status, await again.clone().text()).toBe(200);
	});

	it("reaches the members of a group from the provider's claims", async () => {
		const wf = await create("grouped");
		expect(
			(await t.call("GET", `/api/workflows/${wf.workflow_id}/status`, { token: member, bearer: true })).status,
		).toBe(403);
		const res = await share(wf.workflow_id, { group: "users", permission: "run" });
		expect(res.status).toBe(200);
		expect(await message(res)).toMatch(/shared with group:users \(run\)/);
		expect(
			(await t.call("GET", `/api/workflows/${wf.workflow_id}/status`, { token: member, bearer: true })).status,
		).toBe(200);
		const status = (await (
			await t.call("GET", `/api/workflows/${wf.workflow_id}/share-status`, { token: alice.token })
		).json()) as {
			shared_with: Array<{ user_email: string; group: string | null; permission: string }>;
		};
		expect(status.shared_with).toEqual([
			expect.objectContaining({ user_email: "group:users", group: "users", permission: "run" }),
		]);
	});

	it("stops counting a share after its expiry, and refuses an expiry in the past", async () => {
		const wf = await create("expiring");
		const res = await share(wf.workflow_id, {
			user_email_to_share_with: "erin@example.org",
			valid_until: "2999-12-31",
		});
		expect(res.status).toBe(200);
		const status = (await (
			await t.call("GET", `/api/workflows/${wf.workflow_id}/share-status`, { token: alice.token })
		).json()) as {
			shared_with: Array<{ valid_until: string }>;
		};
		expect(status.shared_with[0]?.valid_until).toBe("2999-12-31T23:59:59.999Z");
		expect((await t.call("GET", `/api/workflows/${wf.workflow_id}/status`, { token: erin.token })).status).toBe(200);
		await t.server.db.kysely
			.updateTable("shares")
			.set({ expires_at: new Date(Date.now() - 1000).toISOString() })
			.where("workflow_id", "=", wf.workflow_id)
			.execute();
		const late = await t.call("GET", `/api/workflows/${wf.workflow_id}/status`, { token: erin.token });
		expect(late.status).toBe(403);
		expect(await message(late)).toMatch(/access to this workflow expired/);
		const past = await share(wf.workflow_id, {
			user_email_to_share_with: "bob@example.org",
			valid_until: "2001-01-01",
		});
		expect(past.status).toBe(400);
		// An expired share is replaced by a new one.
		expect((await share(wf.workflow_id, { user_email_to_share_with: "erin@example.org" })).status).toBe(200);
		expect((await t.call("GET", `/api/workflows/${wf.workflow_id}/status`, { token: erin.token })).status).toBe(200);
	});

	it("revokes a share at once (REANA's share-remove)", async () => {
		const wf = await create("revoked");
		await share(wf.workflow_id, { user_email_to_share_with: "bob@example.org" });
		expect((await t.call("GET", `/api/workflows/${wf.workflow_id}/status`, { token: bob.token })).status).toBe(200);
		const un = await t.call(
			"POST",
			`/api/workflows/${wf.workflow_id}/unshare?user_email_to_unshare_with=bob@example.org`,
			{
				token: alice.token,
			},
		);
		expect(un.status).toBe(200);
		expect((await t.call("GET", `/api/workflows/${wf.workflow_id}/status`, { token: bob.token })).status).toBe(403);
		const twice = await t.call(
			"POST",
			`/api/workflows/${wf.workflow_id}/unshare?user_email_to_unshare_with=bob@example.org`,
			{
				token: alice.token,
			},
		);
		expect(twice.status).toBe(409);
		expect(await message(twice)).toMatch(/not shared with bob@example\.org/);
	});

	it("shares every run of a name, also runs made later", async () => {
		const first = await create("series");
		expect(
			(await share(first.workflow_id, { user_email_to_share_with: "bob@example.org", all_runs: true })).status,
		).toBe(200);
		const second = await create("series");
		expect((await t.call("GET", `/api/workflows/${second.workflow_id}/status`, { token: bob.token })).status).toBe(200);
		const byName = await t.call("GET", "/api/workflows/alice@example.org:series.2/status", { token: bob.token });
		expect(byName.status).toBe(200);
		expect(await byName.json()).toMatchObject({ name: "series.2" });
		// By name, a run of Alice's that is not shared with Carol is as unknown to her as one that does not
		// exist; an id named under another owner is not that owner's run; an id cannot be a name.
		const unshared = await t.call("GET", "/api/workflows/alice@example.org:series.2/status", { token: carol.token });
		const missing = await t.call("GET", "/api/workflows/alice@example.org:nothing.1/status", { token: carol.token });
		expect([unshared.status, missing.status]).toEqual([404, 404]);
		const wrongOwner = await t.call("GET", `/api/workflows/carol@example.org:${second.workflow_id}/status`, {
			token: bob.token,
		});
		expect(wrongOwner.status).toBe(404);
		const idAsName = await t.call("POST", `/api/workflows?workflow_name=${second.workflow_id}`, {
			token: carol.token,
			body: spec,
		});
		expect(idAsName.status).toBe(400);
		expect(await message(idAsName)).toMatch(/has the shape of a workflow id/);
		const runOnly = await t.call(
			"POST",
			`/api/workflows/${second.workflow_id}/unshare?user_email_to_unshare_with=bob@example.org`,
			{
				token: alice.token,
			},
		);
		expect(runOnly.status).toBe(409);
		expect(await message(runOnly)).toMatch(/pass all_runs/);
	});

	it("lists runs shared with me, by me, and both", async () => {
		const mine = (await (await t.call("GET", "/api/workflows", { token: bob.token })).json()) as { total: number };
		expect(mine.total).toBe(0);
		const shared = (await (await t.call("GET", "/api/workflows?shared_with_me=true", { token: bob.token })).json()) as {
			items: Array<{ name: string; owner_email: string; shared_with: string[] }>;
		};
		expect(shared.items.map((i) => i.name).sort()).toEqual(["reading.1", "series.1", "series.2"]);
		expect(shared.items.every((i) => i.owner_email === "alice@example.org" && i.shared_with.length === 0)).toBe(true);
		const both = (await (await t.call("GET", "/api/workflows?shared=true", { token: bob.token })).json()) as {
			total: number;
		};
		expect(both.total).toBe(3);
		const byAlice = (await (
			await t.call("GET", "/api/workflows?shared_by=alice@example.org", { token: bob.token })
		).json()) as {
			total: number;
		};
		expect(byAlice.total).toBe(3);
		const toBob = (await (
			await t.call("GET", "/api/workflows?shared_with=bob@example.org", { token: alice.token })
		).json()) as { items: Array<{ name: string; shared_with: string[] }> };
		expect(toBob.items.map((i) => i.name).sort()).toEqual(["reading.1", "series.1", "series.2"]);
		expect(toBob.items.every((i) => i.shared_with.includes("bob@example.org"))).toBe(true);
		const toGroup = (await (
			await t.call("GET", "/api/workflows?shared_with=group:users", { token: alice.token })
		).json()) as {
			items: Array<{ name: string }>;
		};
		expect(toGroup.items.map((i) => i.name)).toEqual(["grouped.1"]);
	});

	it("names who shared with you and whom you shared with", async () => {
		const withBob = await (await t.call("GET", "/api/users/shared-with-you", { token: bob.token })).json();
		expect(withBob).toEqual({ users: [{ email: "alice@example.org" }], groups: [] });
		const byAlice = (await (await t.call("GET", "/api/users/you-shared-with", { token: alice.token })).json()) as {
			users: Array<{ email: string }>;
			groups: Array<{ name: string }>;
		};
		expect(byAlice.users.map((u) => u.email)).toEqual(["bob@example.org", "carol@example.org", "erin@example.org"]);
		expect(byAlice.groups).toEqual([{ name: "users" }]);
	});

	describe("bad input", () => {
		it("says clearly when the user or group to share with is unknown", async () => {
			const wf = await create("unknowns");
			const user = await share(wf.workflow_id, { user_email_to_share_with: "nobody@example.org" });
			expect(user.status).toBe(404);
			expect(await message(user)).toMatch(/no user with the email nobody@example\.org is known.*must log in once/);
			const group = await share(wf.workflow_id, { group: "no-such-group" });
			expect(group.status).toBe(404);
			expect(await message(group)).toMatch(/no group named 'no-such-group'/);
			const both = await share(wf.workflow_id, { user_email_to_share_with: "bob@example.org", group: "users" });
			expect(both.status).toBe(400);
			const none = await share(wf.workflow_id, {});
			expect(none.status).toBe(400);
			const self = await share(wf.workflow_id, { user_email_to_share_with: "alice@example.org" });
			expect(self.status).toBe(400);
			const perm = await share(wf.workflow_id, { user_email_to_share_with: "bob@example.org", permission: "write" });
			expect(perm.status).toBe(400);
			const twice = await share(wf.workflow_id, { user_email_to_share_with: "bob@example.org" });
			expect(twice.status).toBe(200);
			const again = await share(wf.workflow_id, { user_email_to_share_with: "bob@example.org", permission: "run" });
			expect(again.status).toBe(409);
		});

		it("refuses to share a workflow you do not own (403), also with a share of it", async () => {
			const wf = await create("notyours");
			const stranger = await share(wf.workflow_id, { user_email_to_share_with: "carol@example.org" }, bob.token);
			expect(stranger.status).toBe(403);
			await share(wf.workflow_id, { user_email_to_share_with: "bob@example.org", permission: "run" });
			const sharer = await share(wf.workflow_id, { user_email_to_share_with: "carol@example.org" }, bob.token);
			expect(sharer.status).toBe(403);
			expect((await t.call("GET", `/api/workflows/${wf.workflow_id}/share-status`, { token: bob.token })).status).toBe(
				403,
			);
			// By name, another user's workflow is not even found in one's own namespace.
			expect((await share("notyours", { user_email_to_share_with: "carol@example.org" }, bob.token)).status).toBe(404);
			// An administrator may.
			expect((await share(wf.workflow_id, { user_email_to_share_with: "carol@example.org" }, admin.token)).status).toBe(
				200,
			);
		});
	});

	it("records shares added and removed in the audit log", async () => {
		const res = await t.call("GET", "/api/audit?type=share_added,share_removed&limit=1000", { token: admin.token });
		const items = ((await res.json()) as { items: Array<{ type: string; actor: string; message: string }> }).items;
		expect(
			items.some((i) => i.type === "share_added" && i.actor === "alice@example.org" && /reading\.1/.test(i.message)),
		).toBe(true);
		expect(items.some((i) => i.type === "share_removed")).toBe(true);
	});
});
