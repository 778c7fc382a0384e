// Interactive sessions on an origin of their own (ORRERY_SESSIONS_URL): one real server answers two host
// names, 127.0.0.1 (API and web UI) and localhost (sessions), with a real Jupyter behind it. Entry is by
// single-use tickets; the sessions' host serves nothing else and takes no other credential.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import type { Clock } from "../../src/common/index.js";
import { endSessionsUnder, runsJupyterTests } from "../support/jupyter.js";
import { startTestServer, type TestServer } from "../support/test-server.js";
import { freePort } from "../web/orrery-process.js";

/** The server's clock, which a test may move forward (to expire a ticket). */
const clock: Clock & { offsetMs: number } = { offsetMs: 0, now: (): Date => new Date(Date.now() + clock.offsetMs) };

describe.skipIf(!runsJupyterTests)("interactive sessions on their own origin (a real Jupyter)", () => {
	let t: TestServer;
	let main: string;
	let sessions: string;
	let ada: { id: string; token: string };
	let bob: { id: string; token: string };
	let adaSession: string;

	const api = async (method: string, path: string, token: string, body?: unknown) => {
		const res = await fetch(`${main}${path}`, {
			method,
			headers: {
				authorization: `Bearer ${token}`,
				...(body === undefined ? {} : { "content-type": "application/json" }),
			},
			...(body === undefined ? {} : { body: JSON.stringify(body) }),
		});
		return { status: res.status, body: (await res.json()) as Record<string, unknown> };
	};
	/** A run with one file and its session open; returns the session's id. */
	const runWithSession = async (token: string, name: string) => {
		const spec = { workflow: { type: "serial", specification: { steps: [{ commands: ["true"] }] } } };
		expect((await api("POST", `/api/workflows?workflow_name=${name}`, token, spec)).status).toBe(201);
		const up = await fetch(`${main}/api/workflows/${name}/workspace?file_name=data/hello.txt`, {
			method: "POST",
			headers: { authorization: `Bearer ${token}`, "content-type": "application/octet-stream" },
			body: "hello\n",
		});
		expect(up.status).toBe(200);
		const open = await api("POST", `/api/workflows/${name}/open/jupyter`, token, {});
		expect(open.status, JSON.stringify(open.body)).toBe(200);
		return /^\/sessions\/([0-9a-f-]{36})\/$/.exec(open.body.path as string)?.[1] as string;
	};
	const ticketUrl = async (run: string, token: string) => {
		const res = await api("POST", `/api/workflows/${run}/session-ticket`, token);
		expect(res.status, JSON.stringify(res.body)).toBe(200);
		expect(res.body.expires_in).toBe(60);
		return res.body.url as string;
	};
	const get = (url: string, headers: Record<string, string> = {}) => fetch(url, { redirect: "manual", headers });

	beforeAll(async () => {
		const port = await freePort();
		main = `http://127.0.0.1:${port}`;
		sessions = `http://localhost:${port}`;
		t = await startTestServer("sqlite", { env: { ORRERY_SESSIONS_URL: sessions }, port, clock });
		expect(t.url).toBe(main);
		ada = await t.user("ada@example.org");
		bob = await t.user("bob@example.org");
		adaSession = await runWithSession(ada.token, "nb");
		await runWithSession(bob.token, "mine");
	}, 90_000);

	afterAll(async () => {
		await t?.close();
		if (t) endSessionsUnder(t.home);
	});

	it("serves neither the API nor the web UI nor metrics at the sessions' host name", async () => {
		for (const path of ["/api/you", "/api/ping", "/api/openapi.json", "/metrics", "/", "/runs", "/assets/x.js"]) {
			const res = await get(`${sessions}${path}`, { authorization: `Bearer ${ada.token}`, accept: "text/html" });
			expect(res.status, path).toBe(404);
			expect(((await res.json()) as { message: string }).message).toBe(
				"this host serves interactive sessions only; the Orrery web UI and API are at the server's own address",
			);
		}
		// The server's own host name still serves them.
		expect((await get(`${main}/api/ping`)).status).toBe(200);
	});

	it("serves no session at the server's own host name: 404 with a one-line message, whatever the credential", async () => {
		const base = `${main}/sessions/${adaSession}/`;
		for (const [url, init] of [
			[base, {}],
			[`${base}api/contents`, { headers: { authorization: `Bearer ${ada.token}` } }],
			[`${base}api/kernels`, { method: "POST", headers: { authorization: `Bearer ${ada.token}` } }],
		] as const) {
			const res = await fetch(url, { redirect: "manual", ...init });
			expect(res.status, url).toBe(404);
			expect(((await res.json()) as { message: string }).message).toBe(
				`interactive sessions are served at ${sessions}; open one from the web UI, or follow the link 'orrery open' prints`,
			);
		}
	});

	it("enters with a ticket from the API once: an HttpOnly cookie for the session's address alone, then Jupyter", async () => {
		const url = await ticketUrl("nb", ada.token);
		expect(url).toMatch(new RegExp(`^${sessions}/sessions/${adaSession}/enter\\?ticket=[\\w.-]+$`));
		expect(url).not.toContain(ada.token);
		const entered = await get(url);
		expect(entered.status).toBe(302);
		expect(entered.headers.get("location")).toBe(`/sessions/${adaSession}/`);
		expect(entered.headers.get("referrer-policy")).toBe("no-referrer");
		const setCookie = entered.headers.get("set-cookie") ?? "";
		expect(setCookie).toMatch(
			new RegExp(`^orrery_nb_${adaSession}=[^;]+; Path=/sessions/${adaSession}/; Max-Age=\\d+`),
		);
		expect(setCookie).toContain("; HttpOnly");
		expect(setCookie).toContain("; SameSite=Lax");
		expect(setCookie).not.toMatch(/Domain=|Secure/i); // host-only; plain http here, so not Secure
		const cookie = setCookie.split(";")[0] as string;
		const listing = await get(`${sessions}/sessions/${adaSession}/api/contents/data`, { cookie });
		expect(listing.status).toBe(200);
		const names = ((await listing.json()) as { content: Array<{ name: string }> }).content.map((c) => c.name);
		expect(names).toEqual(["hello.txt"]);

		const again = await get(url);
		expect(again.status).toBe(403);
		expect(((await again.json()) as { message: string }).message).toBe(
			"this entry link was already used; open the session again from the web UI or with 'orrery open'",
		);
		expect(again.headers.get("set-cookie")).toBeNull();
		// The same ticket written another way (the decoder ignores padding and an extra segment) is still used.
		for (const variant of [`${url}=`, `${url}.x`, `${url}%20`]) {
			const replay = await get(variant);
			expect(replay.status, variant).toBe(403);
			expect(replay.headers.get("set-cookie")).toBeNull();
		}
	});

	it("refuses an expired ticket (403), and one made for another session", async () => {
		const url = await ticketUrl("nb", ada.token);
		clock.offsetMs = 61_000;
		try {
			const res = await get(url);
			expect(res.status).toBe(403);
			expect(((await res.json()) as { message: string }).message).toBe(
				"this entry link has expired (it lasts 60 s); open the session again from the web UI or with 'orrery open'",
			);
		} finally {
			clock.offsetMs = 0;
		}
		// Bob's ticket is for his own session: it does not open Ada's.
		const bobs = new URL(await ticketUrl("mine", bob.token));
		const foreign = await get(`${sessions}/sessions/${adaSession}/enter${bobs.search}`);
		expect(foreign.status).toBe(403);
		expect(((await foreign.json()) as { message: string }).message).toMatch(/^this entry link is for another session/);
		const forged = await get(`${sessions}/sessions/${adaSession}/enter?ticket=v1.AAAA.BBBB.CCCC`);
		expect(forged.status).toBe(403);
		expect((await get(`${sessions}/sessions/${adaSession}/enter`)).status).toBe(401);
		// Still good where it belongs.
		expect((await get(bobs.href)).status).toBe(302);
	});

	it("gives no ticket to a user who may not run the run, not even with a share to read it", async () => {
		const byId = await api("GET", "/api/workflows/nb/status", ada.token);
		const runId = byId.body.id as string;
		const stranger = await api("POST", `/api/workflows/${runId}/session-ticket`, bob.token);
		expect(stranger.status).toBe(403);
		const share = await api("POST", "/api/workflows/nb/share", ada.token, {
			user_email_to_share_with: "bob@example.org",
			permission: "read",
		});
		expect(share.status, JSON.stringify(share.body)).toBe(200);
		const reader = await api("POST", `/api/workflows/${runId}/session-ticket`, bob.token);
		expect(reader.status).toBe(403);
		// Nor through a link with his token at the server's own host name.
		const link = await get(`${main}/sessions/${adaSession}/?token=${encodeURIComponent(bob.token)}`);
		expect(link.status).toBe(403);
	});

	it("takes no access token at the sessions' host name: neither a link's nor a Bearer header", async () => {
		const base = `${sessions}/sessions/${adaSession}/`;
		expect((await get(`${base}?token=${encodeURIComponent(ada.token)}`)).status).toBe(401);
		const bearer = await get(`${base}api/contents`, { authorization: `Bearer ${ada.token}` });
		expect(bearer.status).toBe(401);
		expect(((await bearer.json()) as { message: string }).message).toBe(
			"enter this session through its entry link: open it from the web UI, or follow the link 'orrery open' prints",
		);
	});

	it("turns the link 'orrery open' and 'reana-client open' print into a ticket at the sessions' host name, without the token", async () => {
		// REANA's form: the server's own address, the session's path, ?token=<access token>.
		const link = await get(`${main}/sessions/${adaSession}/tree/data?token=${encodeURIComponent(ada.token)}`);
		expect(link.status).toBe(302);
		const location = new URL(link.headers.get("location") as string);
		expect(location.origin).toBe(sessions);
		expect(location.pathname).toBe(`/sessions/${adaSession}/enter`);
		expect(location.searchParams.get("next")).toBe(`/sessions/${adaSession}/tree/data`);
		expect(location.href).not.toContain(encodeURIComponent(ada.token));
		expect(location.href).not.toContain(ada.token);
		const entered = await get(location.href);
		expect(entered.status).toBe(302);
		expect(entered.headers.get("location")).toBe(`/sessions/${adaSession}/tree/data`);
		// Another site may not send a browser in with a link it made.
		const crossSite = await get(`${main}/sessions/${adaSession}/?token=${encodeURIComponent(ada.token)}`, {
			"sec-fetch-site": "cross-site",
		});
		expect(crossSite.status).toBe(403);
		// A wrong token is refused as at the API.
		expect((await get(`${main}/sessions/${adaSession}/?token=orr_wrong`)).status).toBe(403);
	});

	it("runs a kernel through the sessions' host name, and refuses its WebSocket to the web UI's origin", async () => {
		// An entry goes on within the session's address only, whatever `next` it is given.
		const outside = encodeURIComponent(`/sessions/${adaSession}/../../api/you`);
		const entered = await get(`${await ticketUrl("nb", ada.token)}&next=${outside}`);
		expect(entered.headers.get("location")).toBe(`/sessions/${adaSession}/`);
		const cookie = (entered.headers.get("set-cookie") ?? "").split(";")[0] as string;
		const base = `${sessions}/sessions/${adaSession}/`;
		const fromUi = await fetch(`${base}api/kernels`, {
			method: "POST",
			headers: { cookie, "content-type": "application/json", origin: main },
			body: JSON.stringify({ name: "python3" }),
		});
		expect(fromUi.status).toBe(403);
		const kernel = await fetch(`${base}api/kernels`, {
			method: "POST",
			headers: { cookie, "content-type": "application/json", origin: sessions },
			body: JSON.stringify({ name: "python3" }),
		});
		expect(kernel.status).toBe(201);
		const { id } = (await kernel.json()) as { id: string };
		const channels = `${base.replace("http", "ws")}api/kernels/${id}/channels`;
		const connect = (origin: string) =>
			new Promise<number>((done) => {
				const ws = new WebSocket(channels, { headers: { cookie, origin } });
				ws.on("open", () => {
					ws.close();
					done(101);
				});
				ws.on("unexpected-response", (_req, res) => done(res.statusCode ?? 0));
				ws.on("error", () => done(0));
			});
		expect(await connect(sessions)).toBe(101);
		expect(await connect(main)).toBe(403);
	}, 60_000);
});
