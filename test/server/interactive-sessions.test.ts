// Interactive sessions against a real Jupyter notebook server (Debian's jupyter-notebook, which .ci/run
// installs): opened through REANA's endpoints, reached through the server's proxy (HTTP and the kernel's
// WebSocket), kept across a killed server, closed, and refused to whoever may not run the run.
import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { issueToken } from "../../src/auth/index.js";
import { systemClock } from "../../src/common/index.js";
import { isAlive } from "../../src/server/interactive/jupyter-process.js";
import { testDialects } from "../support/databases.js";
import { endSessionsUnder, processesNaming, runsJupyterTests } from "../support/jupyter.js";
import { orrery, type ServerProcess, startServerProcess } from "../support/processes.js";
import { startTestServer, type TestServer } from "../support/test-server.js";

/** The processes whose command line names this session's address (its Jupyter server). */
function jupyterProcesses(path: string): number[] {
	return processesNaming(`--NotebookApp.base_url=${path}`);
}

/** Runs `code` in a kernel of the session through the server's WebSocket proxy; its result as text. */
async function execute(url: string, path: string, cookie: string, code: string): Promise<string> {
	const kernel = await fetch(`${url}${path}api/kernels`, {
		method: "POST",
		headers: { cookie, "content-type": "application/json", origin: url },
		body: JSON.stringify({ name: "python3" }),
	});
	expect(kernel.status).toBe(201);
	const { id } = (await kernel.json()) as { id: string };
	const ws = new WebSocket(`${url.replace("http", "ws")}${path}api/kernels/${id}/channels`, {
		headers: { cookie, origin: url },
	});
	try {
		return await new Promise<string>((done, fail) => {
			const timer = setTimeout(() => fail(new Error("no result from the kernel in 30 s")), 30_000);
			ws.on("unexpected-response", (_req, res) => fail(new Error(`WebSocket refused: ${res.statusCode}`)));
			ws.on("error", fail);
			ws.on("open", () =>
				ws.send(
					JSON.stringify({
						header: { msg_id: "m1", username: "test", session: "s1", msg_type: "execute_request", version: "5.3" },
						parent_header: {},
						metadata: {},
						content: { code, silent: false, store_history: false, user_expressions: {}, allow_stdin: false },
						channel: "shell",
					}),
				),
			);
			ws.on("message", (data) => {
				const m = JSON.parse(data.toString()) as { msg_type: string; content: { data?: Record<string, string> } };
				if (m.msg_type === "execute_result") {
					clearTimeout(timer);
					done(m.content.data?.["text/plain"] ?? "");
				}
			});
		});
	} finally {
		ws.close();
	}
}

describe.skipIf(!runsJupyterTests)("interactive sessions (a real Jupyter; needs Debian's jupyter-notebook)", () => {
	let home: string;
	let server: ServerProcess;
	let env: Record<string, string>;
	let token: string;
	let otherToken: string;
	const opened = new Set<string>();

	const api = async (method: string, path: string, body?: unknown, as = token) => {
		const res = await fetch(`${server.url}${path}`, {
			method,
			headers: {
				authorization: `Bearer ${as}`,
				...(body === undefined
					? {}
					: { "content-type": typeof body === "string" ? "application/octet-stream" : "application/json" }),
			},
			...(body === undefined ? {} : { body: typeof body === "string" ? body : JSON.stringify(body) }),
		});
		return { status: res.status, body: (await res.json()) as Record<string, unknown> };
	};
	/** Exchanges the link's token for the session's cookie, as a browser following the printed link does. */
	const enter = async (path: string, as = token) => {
		const res = await fetch(`${server.url}${path}?token=${encodeURIComponent(as)}`, { redirect: "manual" });
		return { status: res.status, location: res.headers.get("location"), cookie: res.headers.get("set-cookie") };
	};

	beforeAll(async () => {
		home = mkdtempSync(join(tmpdir(), "orrery-sessions-"));
		env = { ORRERY_HOME: home };
		const create = async (email: string) =>
			JSON.parse((await orrery(["admin", "create-user", "--email", email, "--json"], env)).stdout).token as string;
		token = await create("nb@example.org");
		otherToken = await create("other@example.org");
		server = await startServerProcess(env);
		const created = await api("POST", "/api/workflows?workflow_name=nb", {
			workflow: { type: "serial", specification: { steps: [{ commands: ["true"] }] } },
		});
		expect(created.status).toBe(201);
		expect((await api("POST", "/api/workflows/nb/workspace?file_name=data/hello.txt", "hello\n")).status).toBe(200);
	}, 60_000);

	afterAll(async () => {
		for (const path of opened) for (const pid of jupyterProcesses(path)) process.kill(pid, "SIGKILL");
		await server?.kill();
		endSessionsUnder(home);
		rmSync(home, { recursive: true, force: true });
	});

	it("opens a Jupyter on the run's workspace, reached through the server with the link's token, kernels included", async () => {
		const open = await api("POST", "/api/workflows/nb/open/jupyter", { image: null });
		expect(open.status, JSON.stringify(open.body)).toBe(200);
		const path = open.body.path as string;
		opened.add(path);
		expect(path).toMatch(/^\/sessions\/[0-9a-f-]{36}\/$/);
		expect(open.body.jupyter_url).toBeUndefined();
		// REANA's session listing: reana-client list --sessions.
		const listed = await api("GET", "/api/workflows?type=interactive");
		expect(listed.body.items).toEqual([
			expect.objectContaining({ name: "nb.1", session_type: "jupyter", session_uri: path, session_status: "running" }),
		]);
		expect(((await api("GET", "/api/workflows?type=batch")).body.items as unknown[]).length).toBe(1);
		// A page of another site cannot send a browser in with a link it made (the browser says where
		// the navigation came from); a link opened from the address bar (none) or this origin can.
		for (const site of ["cross-site", "same-site"]) {
			const pushed = await fetch(`${server.url}${path}?token=${encodeURIComponent(token)}`, {
				redirect: "manual",
				headers: { "sec-fetch-site": site },
			});
			expect(pushed.status).toBe(403);
			expect(pushed.headers.get("set-cookie")).toBeNull();
		}
		const typed = await fetch(`${server.url}${path}?token=${encodeURIComponent(token)}`, {
			redirect: "manual",
			headers: { "sec-fetch-site": "none" },
		});
		expect(typed.status).toBe(302);
		// The link reana-client prints: the token is exchanged for a cookie of this session, and dropped from the address.
		const entered = await enter(path);
		expect(entered.status).toBe(302);
		expect(entered.location).toBe(path);
		const cookie = (entered.cookie as string).split(";")[0] as string;
		expect(entered.cookie).toMatch(new RegExp(`Path=${path}; .*HttpOnly`));
		const page = await fetch(`${server.url}${path}tree`, { headers: { cookie } });
		expect(page.status).toBe(200);
		// Jupyter's own cookies (its _xsrf) are held to the session's address, not set for the whole origin.
		const jupyterSet = page.headers.getSetCookie();
		expect(jupyterSet.some((c) => c.startsWith("_xsrf="))).toBe(true);
		for (const c of jupyterSet) expect(c).toMatch(new RegExp(`; Path=${path}$`));
		expect(await page.text()).toMatch(/<title>Home Page - Select or create a notebook<\/title>/);
		const file = await fetch(`${server.url}${path}api/contents/data/hello.txt?content=1`, { headers: { cookie } });
		expect(((await file.json()) as { content: string }).content).toBe("hello\n");
		// Orrery's own folder is hidden, as Jupyter hides dot folders.
		const root = (await (await fetch(`${server.url}${path}api/contents`, { headers: { cookie } })).json()) as {
			content: Array<{ name: string }>;
		};
		expect(root.content.map((c) => c.name)).toEqual(["data"]);
		expect(await execute(server.url, path, cookie, "6 * 7")).toBe("42");
		// The kernel runs in a session of its own, named by its connection file in the session's folder.
		expect(processesNaming(join(home, "sessions", path.split("/")[2] as string, "runtime", "kernel-"))).toHaveLength(1);
		// Notebook trust (which notebooks' scripts run when opened) is the session's own, not shared by all.
		expect(await execute(server.url, path, cookie, "__import__('jupyter_core.paths').paths.jupyter_data_dir()")).toBe(
			`'${join(home, "sessions", path.split("/")[2] as string, "data")}'`,
		);
		// Opening again answers the same session.
		expect((await api("POST", "/api/workflows/nb/open/jupyter", {})).body.path).toBe(path);
		expect(jupyterProcesses(path)).toHaveLength(1);
	}, 120_000);

	it("lets in only those who may run the run", async () => {
		const path = (await api("POST", "/api/workflows/nb/open/jupyter", {})).body.path as string;
		expect((await fetch(`${server.url}${path}api/contents`)).status).toBe(401);
		expect(
			(await fetch(`${server.url}${path}api/contents`, { headers: { cookie: `orrery_nb_x=forged` } })).status,
		).toBe(401);
		const forged = path.split("/")[2] as string;
		const wrongCookie = await fetch(`${server.url}${path}api/contents`, {
			headers: { cookie: `orrery_nb_${forged}=forged` },
		});
		expect(wrongCookie.status).toBe(401);
		expect((await enter(path, "orr_not-a-token")).status).toBe(403);
		// On the UI's own origin, another site may not send a browser into a session, not even with a ticket.
		const ticketOf = async () => {
			const url = (await api("POST", "/api/workflows/nb/session-ticket", {})).body.url as string;
			return url.startsWith("/") ? `${server.url}${url}` : url;
		};
		const crossSite = await fetch(await ticketOf(), {
			redirect: "manual",
			headers: { "sec-fetch-site": "cross-site" },
		});
		expect(crossSite.status).toBe(403);
		expect(crossSite.headers.get("set-cookie")).toBeNull();
		const own = await fetch(await ticketOf(), { redirect: "manual", headers: { "sec-fetch-site": "same-origin" } });
		expect(own.status).toBe(302);
		// Another user: not their run.
		const foreign = await enter(path, otherToken);
		expect(foreign.status).toBe(403);
		expect(foreign.cookie).toBeNull();
		expect((await api("POST", "/api/workflows/nb/open/jupyter", {}, otherToken)).status).toBe(404);
		expect((await api("POST", "/api/workflows/nb/close/", {}, otherToken)).status).toBe(404);
		// An unknown address.
		expect((await fetch(`${server.url}/sessions/00000000-0000-0000-0000-000000000000/tree`)).status).toBe(404);
		// What cannot be opened.
		const type = await api("POST", "/api/workflows/nb/open/jupiter", {});
		expect(type).toEqual({
			status: 404,
			body: expect.objectContaining({
				message: "Interactive session type jupiter not found, try with one of: [jupyter].",
			}),
		});
		const image = await api("POST", "/api/workflows/nb/open/jupyter", { image: "docker.io/jupyter/scipy-notebook" });
		expect(image.status).toBe(400);
		expect(image.body.message).toMatch(/an image \(docker.io\/jupyter\/scipy-notebook\) cannot be chosen/);
	}, 60_000);

	it("outlives a killed server, then closes: its processes end and its address is gone", async () => {
		const path = (await api("POST", "/api/workflows/nb/open/jupyter", {})).body.path as string;
		const cookie = ((await enter(path)).cookie as string).split(";")[0] as string;
		await server.kill("SIGKILL");
		server = await startServerProcess(env, Number(new URL(server.url).port));
		const after = await fetch(`${server.url}${path}api/contents/data/hello.txt?content=1`, { headers: { cookie } });
		expect(after.status).toBe(200);
		expect((await api("POST", "/api/workflows/nb/open/jupyter", {})).body.path).toBe(path);
		const closed = await api("POST", "/api/workflows/nb/close/", {});
		expect(closed).toEqual({ status: 200, body: { message: "The interactive session has been closed" } });
		expect((await fetch(`${server.url}${path}api/contents`, { headers: { cookie } })).status).toBe(404);
		for (let i = 0; i < 50 && jupyterProcesses(path).length > 0; i++) await new Promise((r) => setTimeout(r, 200));
		expect(jupyterProcesses(path)).toEqual([]);
		// The kernel the first test started (a session of its own) ended with it.
		const kernels = () => processesNaming(join(home, "sessions", path.split("/")[2] as string, "runtime", "kernel-"));
		for (let i = 0; i < 50 && kernels().length > 0; i++) await new Promise((r) => setTimeout(r, 200));
		expect(kernels()).toEqual([]);
		expect((await api("GET", "/api/workflows?type=interactive")).body.items).toEqual([]);
		expect((await api("POST", "/api/workflows/nb/close/", {})).status).toBe(404);
	}, 120_000);

	it("orrery open, list --sessions and close; deleting a run closes its session", async () => {
		const client = { ...env, ORRERY_SERVER_URL: server.url, ORRERY_ACCESS_TOKEN: token };
		const open = await orrery(["open", "-w", "nb"], client);
		expect(open.code, open.stderr).toBe(0);
		const link = open.stdout.trim();
		expect(link).toMatch(new RegExp(`^${server.url}/sessions/[0-9a-f-]{36}/\\?token=`));
		const path = new URL(link).pathname;
		opened.add(path);
		expect((await fetch(link, { redirect: "manual" })).status).toBe(302);
		const list = await orrery(["list", "--sessions"], client);
		expect(list.stdout).toMatch(new RegExp(`nb\\.1\\s+jupyter\\s+running\\s+${path}`));
		expect((await orrery(["close", "-w", "nb"], client)).stdout).toMatch(/closed/);
		// Delete with a session open: it goes with the run.
		const again = await orrery(["open", "-w", "nb", "--json"], client);
		const second = JSON.parse(again.stdout) as { path: string; url: string };
		opened.add(second.path);
		expect(second.url).toContain(second.path);
		expect((await api("PUT", "/api/workflows/nb/status?status=deleted", {})).status).toBe(200);
		for (let i = 0; i < 50 && jupyterProcesses(second.path).length > 0; i++)
			await new Promise((r) => setTimeout(r, 200));
		expect(jupyterProcesses(second.path)).toEqual([]);
	}, 120_000);

	it("with the embedded server, orrery open prints the session's own address, which outlives the command", async () => {
		const local = { ORRERY_HOME: mkdtempSync(join(tmpdir(), "orrery-sessions-embedded-")) };
		try {
			const run = await orrery(["run", "examples/helloworld"], local, { timeoutMs: 120_000 });
			expect(run.code, run.stderr).toBe(0);
			const open = await orrery(["open", "-w", "helloworld"], local);
			expect(open.code, open.stderr).toBe(0);
			const link = open.stdout.trim();
			expect(link).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/sessions\/[0-9a-f-]{36}\/\?token=/);
			opened.add(new URL(link).pathname);
			const files = await fetch(`${link.replace("/?token=", "/api/contents/results?token=")}`);
			expect(files.status).toBe(200);
			expect(((await files.json()) as { content: Array<{ name: string }> }).content.map((c) => c.name)).toContain(
				"greetings.txt",
			);
			const close = await orrery(["close", "-w", "helloworld"], local);
			expect(close.code, close.stderr).toBe(0);
			for (let i = 0; i < 50 && jupyterProcesses(new URL(link).pathname).length > 0; i++)
				await new Promise((r) => setTimeout(r, 200));
			expect(jupyterProcesses(new URL(link).pathname)).toEqual([]);
		} finally {
			endSessionsUnder(local.ORRERY_HOME);
			rmSync(local.ORRERY_HOME, { recursive: true, force: true });
		}
	}, 180_000);
});

describe.skipIf(!runsJupyterTests).each(testDialects)("interactive sessions on %s (a real Jupyter)", (dialect) => {
	let t: TestServer;
	let owner: { id: string; token: string };
	let runner: { id: string; token: string };
	let reader: { id: string; token: string };
	let path = "";

	beforeAll(async () => {
		t = await startTestServer(dialect, { sessionSweepMs: 200, env: { ORRERY_SESSION_MAX_IDLE_DAYS: "2" } });
		t.config.sessionAccessRecheckMs = 0;
		owner = await t.user("owner@example.org");
		runner = await t.user("runner@example.org");
		reader = await t.user("reader@example.org");
	}, 60_000);
	afterAll(async () => {
		if (path) for (const pid of jupyterProcesses(path)) process.kill(pid, "SIGKILL");
		await t?.close();
		if (t) endSessionsUnder(t.home);
	});

	it("lists the run among the sessions (also as a shared run), lets in a share with run rights only, and closes", async () => {
		const call = async (method: string, url: string, token: string, body?: unknown) => {
			const res = await t.call(method, url, { token, ...(body === undefined ? {} : { body }) });
			return { status: res.status, body: (await res.json()) as Record<string, unknown> };
		};
		const spec = { workflow: { type: "serial", specification: { steps: [{ commands: ["true"] }] } } };
		expect((await call("POST", "/api/workflows?workflow_name=shared-nb", owner.token, spec)).status).toBe(201);
		for (const [who, permission] of [
			["runner@example.org", "run"],
			["reader@example.org", "read"],
		] as const) {
			const share = await call("POST", "/api/workflows/shared-nb/share", owner.token, {
				user_email_to_share_with: who,
				permission,
			});
			expect(share.status, JSON.stringify(share.body)).toBeLessThan(300);
		}
		const open = await call("POST", "/api/workflows/shared-nb/open/jupyter", owner.token, {});
		expect(open.status, JSON.stringify(open.body)).toBe(200);
		path = open.body.path as string;
		const sessions = await call("GET", "/api/workflows?type=interactive", owner.token);
		expect(sessions.body.items).toEqual([expect.objectContaining({ name: "shared-nb.1", session_uri: path })]);
		const asShared = await call("GET", "/api/workflows?type=interactive&shared=true", runner.token);
		expect(asShared.body.items).toEqual([expect.objectContaining({ name: "shared-nb.1", session_uri: path })]);
		expect((await call("GET", "/api/workflows?type=interactive", runner.token)).body.items).toEqual([]);
		const enter = (token: string) =>
			fetch(`${t.url}${path}?token=${encodeURIComponent(token)}`, { redirect: "manual" }).then((r) => r.status);
		expect(await enter(runner.token)).toBe(302);
		expect(await enter(reader.token)).toBe(403);
		expect(await enter(owner.token)).toBe(302);
		// The runner's cookie lets them in until the share is withdrawn, then no more.
		const entered = await fetch(`${t.url}${path}?token=${encodeURIComponent(runner.token)}`, { redirect: "manual" });
		const cookie = (entered.headers.get("set-cookie") as string).split(";")[0] as string;
		expect((await fetch(`${t.url}${path}api/contents`, { headers: { cookie } })).status).toBe(200);
		// A change or a WebSocket with the cookie, from another site: refused.
		const crossSite = await fetch(`${t.url}${path}api/contents/x.ipynb`, {
			method: "PUT",
			headers: { cookie, origin: "http://evil.example", "content-type": "application/json" },
			body: JSON.stringify({ type: "notebook" }),
		});
		expect(crossSite.status).toBe(403);
		const unshare = await t.call(
			"POST",
			"/api/workflows/shared-nb/unshare?user_email_to_unshare_with=runner@example.org",
			{
				token: owner.token,
			},
		);
		expect(unshare.status).toBe(200);
		const revoked = await fetch(`${t.url}${path}api/contents`, { headers: { cookie } });
		expect(revoked.status).toBe(403);
		expect(revoked.headers.get("set-cookie")).toMatch(/Max-Age=0/);
		expect((await call("POST", "/api/workflows/shared-nb/close/", owner.token, {})).status).toBe(200);
		expect((await call("GET", "/api/workflows?type=interactive", owner.token)).body.items).toEqual([]);
		for (let i = 0; i < 50 && jupyterProcesses(path).length > 0; i++) await new Promise((r) => setTimeout(r, 200));
		expect(jupyterProcesses(path)).toEqual([]);
	}, 120_000);

	it("ends itself when idle (Jupyter's own limits, from ORRERY_SESSION_MAX_IDLE_DAYS); one that ended leaves the listings", async () => {
		const call = async (method: string, url: string, body?: unknown) => {
			const res = await t.call(method, url, { token: owner.token, ...(body === undefined ? {} : { body }) });
			return { status: res.status, body: (await res.json()) as Record<string, unknown> };
		};
		const info = await call("GET", "/api/info");
		expect(info.body.maximum_interactive_session_inactivity_period).toEqual({
			title: "Maximum inactivity period in days before automatic closure of interactive sessions",
			value: "2",
		});
		path = (await call("POST", "/api/workflows/shared-nb/open/jupyter", {})).body.path as string;
		const args = execFileSync("ps", ["-o", "args=", "-p", String(jupyterProcesses(path)[0])], { encoding: "utf8" });
		expect(args).toContain("--NotebookApp.shutdown_no_activity_timeout=172800");
		expect(args).toContain("--MappingKernelManager.cull_idle_timeout=172800");
		// Ended by itself (as after its idle limit, or Quit on its page): the next sweep marks it stopped.
		for (const pid of jupyterProcesses(path)) process.kill(pid, "SIGTERM");
		for (
			let i = 0;
			i < 50 && ((await call("GET", "/api/workflows?type=interactive")).body.items as unknown[]).length > 0;
			i++
		)
			await new Promise((r) => setTimeout(r, 200));
		expect((await call("GET", "/api/workflows?type=interactive")).body.items).toEqual([]);
		expect((await fetch(`${t.url}${path}api/status`)).status).toBe(404);
		// Opened again: a new session.
		const again = (await call("POST", "/api/workflows/shared-nb/open/jupyter", {})).body.path as string;
		expect(again).not.toBe(path);
		path = again;
		expect((await call("POST", "/api/workflows/shared-nb/close/", {})).status).toBe(200);
	}, 120_000);
});

describe.skipIf(!runsJupyterTests)(
	"interactive sessions: credentials, failures and what they leave (a real Jupyter)",
	() => {
		let t: TestServer;
		let owner: { id: string; token: string };
		const opened = new Set<string>();
		const spec = { workflow: { type: "serial", specification: { steps: [{ commands: ["true"] }] } } };
		const call = async (method: string, url: string, token: string, body?: unknown) => {
			const res = await t.call(method, url, { token, ...(body === undefined ? {} : { body }) });
			return { status: res.status, body: (await res.json()) as Record<string, unknown> };
		};
		const open = async (run: string, token = owner.token) => {
			const r = await call("POST", `/api/workflows/${run}/open/jupyter`, token, {});
			if (r.status === 200) opened.add(r.body.path as string);
			return r;
		};
		const enter = (path: string, token: string) =>
			fetch(`${t.url}${path}?token=${encodeURIComponent(token)}`, { redirect: "manual" });
		const cookieOf = (res: Response) => (res.headers.get("set-cookie") as string).split(";")[0] as string;

		beforeAll(async () => {
			// No sweep during these tests: what is checked happens at the request itself.
			t = await startTestServer("sqlite", { sessionSweepMs: 3_600_000 });
			t.config.sessionAccessRecheckMs = 0;
			owner = await t.user("owner@example.org");
			for (const run of ["creds", "dead", "gone", "racing"])
				expect((await call("POST", `/api/workflows?workflow_name=${run}`, owner.token, spec)).status).toBe(201);
		}, 60_000);
		afterAll(async () => {
			for (const path of opened) for (const pid of jupyterProcesses(path)) process.kill(pid, "SIGKILL");
			await t?.close();
			if (t) endSessionsUnder(t.home);
		});

		it("a cookie lasts no longer than the token it was given for; the token never reaches Jupyter; only administrators enter when sessions are theirs", async () => {
			const path = (await open("creds")).body.path as string;
			// A token that ends in 4 s: the cookie ends with it, and is refused once it has.
			const brief = await issueBriefToken(t, owner.id, 4);
			const entered = await enter(path, brief);
			expect(entered.status).toBe(302);
			const maxAge = Number(/Max-Age=(\d+)/.exec(entered.headers.get("set-cookie") as string)?.[1]);
			expect(maxAge).toBeGreaterThan(0);
			expect(maxAge).toBeLessThanOrEqual(4);
			const cookie = cookieOf(entered);
			expect((await fetch(`${t.url}${path}api/contents`, { headers: { cookie } })).status).toBe(200);
			await new Promise((r) => setTimeout(r, 4_500));
			const late = await fetch(`${t.url}${path}api/contents`, { headers: { cookie } });
			expect(late.status).toBe(401);
			expect(((await late.json()) as { message: string }).message).toMatch(/open this session through its link/);
			// A token revoked while its cookie is still young: the cookie ends with it.
			const revocable = await issueBriefToken(t, owner.id, 3600);
			const young = cookieOf(await enter(path, revocable));
			expect((await fetch(`${t.url}${path}api/contents`, { headers: { cookie: young } })).status).toBe(200);
			const revokedToken = await t.call("DELETE", `/api/tokens/${revocable.slice(0, 12)}`, { token: owner.token });
			expect(revokedToken.status, await revokedToken.clone().text()).toBe(200);
			const revoked = await fetch(`${t.url}${path}api/contents`, { headers: { cookie: young } });
			expect(revoked.status).toBe(403);
			expect(((await revoked.json()) as { message: string }).message).toMatch(
				/the credential you entered with no longer holds/,
			);
			// A request that carries the token in its address reaches Jupyter without it (its log names refused URLs).
			const tokenInAddress = await fetch(`${t.url}${path}api/contents/no/such/file.txt?token=${owner.token}&x=1`, {
				method: "PUT",
				headers: { origin: t.url, "content-type": "application/json" },
				body: JSON.stringify({ type: "file", format: "text", content: "x" }),
			});
			expect(tokenInAddress.status).toBeGreaterThanOrEqual(400);
			const log = readFileSync(join(t.home, "sessions", path.split("/")[2] as string, "jupyter.log"), "utf8");
			expect(log).toContain("/api/contents/no/such/file.txt");
			expect(log).not.toContain(owner.token);
			// Sessions left to administrators: a user's cookie and link no longer let them in.
			const ownerCookie = cookieOf(await enter(path, owner.token));
			t.config.interactiveSessions = "admins";
			try {
				expect((await fetch(`${t.url}${path}api/contents`, { headers: { cookie: ownerCookie } })).status).toBe(403);
				const refused = await enter(path, owner.token);
				expect(refused.status).toBe(403);
				expect(((await refused.json()) as { message: string }).message).toMatch(/only administrators/);
			} finally {
				t.config.interactiveSessions = "on";
			}
		}, 120_000);

		it("counts wrong tokens shown to a session against the same limit as the API's, and audits them", async () => {
			const path = (await open("creds")).body.path as string;
			const statuses: number[] = [];
			for (let i = 0; i < 11; i++) statuses.push((await enter(path, "orr_wrongwrongwrongwrong")).status);
			expect(statuses.slice(0, 10)).toEqual(Array(10).fill(403));
			expect(statuses[10]).toBe(429);
			const audit = await t.server.db.kysely
				.selectFrom("audit_events")
				.select(["type", "target"])
				.where("type", "=", "auth_failed")
				.execute();
			expect(audit.filter((a) => a.target === path).length).toBeGreaterThanOrEqual(10);
		}, 60_000);

		it("opens again at once when Jupyter ended by itself; says when the workspace is gone, or the session was closed while it started", async () => {
			const first = (await open("dead")).body.path as string;
			const { pid } = await t.server.db.kysely
				.selectFrom("interactive_sessions")
				.select("pid")
				.where("id", "=", first.split("/")[2] as string)
				.executeTakeFirstOrThrow();
			for (const p of jupyterProcesses(first)) process.kill(p, "SIGKILL");
			// Gone once the kernel has ended it (a process's command line empties before it has exited).
			for (let i = 0; i < 50 && isAlive(pid as number); i++) await new Promise((r) => setTimeout(r, 100));
			// No sweep has run: the open itself sees the dead process.
			const again = await open("dead");
			expect(again.status, JSON.stringify(again.body)).toBe(200);
			expect(again.body.path).not.toBe(first);
			expect((await call("POST", "/api/workflows/dead/close/", owner.token, {})).status).toBe(200);
			// A run whose workspace was removed behind the server's back.
			const status = await call("GET", "/api/workflows/gone/status", owner.token);
			rmSync(status.body.workspace_path as string, { recursive: true, force: true });
			const gone = await open("gone");
			expect(gone.status).toBe(409);
			expect(gone.body.message).toMatch(/the run's workspace is gone/);
			// Closed while Jupyter starts: the open answers that, and no process or folder is left.
			const opening = open("racing");
			await new Promise((r) => setTimeout(r, 300));
			expect((await call("POST", "/api/workflows/racing/close/", owner.token, {})).status).toBe(200);
			const raced = await opening;
			expect(raced.status, JSON.stringify(raced.body)).toBe(409);
			expect(raced.body.message).toMatch(/closed while it started/);
		}, 120_000);

		it("does not reopen a run whose closed session's process another host has still to stop; sweeps a start a killed server left", async () => {
			const wf = (await call("GET", "/api/workflows/creds/status", owner.token)).body.id as string;
			await call("POST", "/api/workflows/creds/close/", owner.token, {});
			// As a close at another server process leaves it: stopped, its process still to be stopped by its host.
			await t.server.db.kysely
				.updateTable("interactive_sessions")
				.set({ status: "stopped", host: "other-host", pid: 424242 })
				.where("workflow_id", "=", wf)
				.execute();
			const blocked = await open("creds");
			expect(blocked.status).toBe(409);
			expect(blocked.body.message).toMatch(/previous session is still being closed on other-host/);
			// A start a killed server left (starting, old, with a live process): the sweep stops it.
			const sleeper = spawn("sleep", ["600"], { detached: true, stdio: "ignore" });
			try {
				await t.server.db.kysely
					.updateTable("interactive_sessions")
					.set({
						status: "starting",
						host: hostname(),
						pid: sleeper.pid as number,
						updated_at: "2020-01-01T00:00:00.000Z",
					})
					.where("workflow_id", "=", wf)
					.execute();
				await t.server.ctx.interactive.sweep();
				const row = await t.server.db.kysely
					.selectFrom("interactive_sessions")
					.select(["status", "message", "pid"])
					.where("workflow_id", "=", wf)
					.executeTakeFirstOrThrow();
				expect(row).toEqual({ status: "stopped", message: "abandoned while it started", pid: null });
				for (let i = 0; i < 50 && sleeper.exitCode === null && sleeper.signalCode === null; i++)
					await new Promise((r) => setTimeout(r, 100));
				expect(sleeper.signalCode ?? sleeper.exitCode).not.toBeNull();
			} finally {
				sleeper.kill("SIGKILL");
			}
			expect((await open("creds")).status).toBe(200);
			expect((await call("POST", "/api/workflows/creds/close/", owner.token, {})).status).toBe(200);
		}, 60_000);
	},
);

/** A token of the user that expires in `seconds`. */
async function issueBriefToken(t: TestServer, userId: string, seconds: number): Promise<string> {
	const user = await t.server.db.kysely
		.selectFrom("users")
		.selectAll()
		.where("id", "=", userId)
		.executeTakeFirstOrThrow();
	const { value } = await issueToken(
		t.server.db,
		user,
		{ name: "brief", scopes: ["read", "write", "run"], expiresAt: new Date(Date.now() + seconds * 1000) },
		systemClock,
	);
	return value;
}

describe("interactive sessions turned off, or left to administrators (ORRERY_INTERACTIVE_SESSIONS)", () => {
	it("answers 501 when off, 403 to a user when for administrators only, and says so in /api/config", async () => {
		for (const [setting, status] of [
			["off", 501],
			["admins", 403],
		] as const) {
			const s = await startTestServer("sqlite", { env: { ORRERY_INTERACTIVE_SESSIONS: setting } });
			try {
				const user = await s.user("someone@example.org");
				const spec = { workflow: { type: "serial", specification: { steps: [{ commands: ["true"] }] } } };
				expect(
					(await s.call("POST", "/api/workflows?workflow_name=nb", { token: user.token, body: spec })).status,
				).toBe(201);
				const open = await s.call("POST", "/api/workflows/nb/open/jupyter", { token: user.token, body: {} });
				expect(open.status).toBe(status);
				expect(((await open.json()) as { message: string }).message).toMatch(
					setting === "off" ? /turned off on this server/ : /only administrators/,
				);
				const config = (await (await s.call("GET", "/api/config")).json()) as { interactive_sessions: boolean };
				expect(config.interactive_sessions).toBe(setting !== "off");
			} finally {
				await s.close();
			}
		}
	});
});
