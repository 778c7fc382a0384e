import { execFileSync } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testDialects } from "../support/databases.js";
import { startTestServer, type TestServer, waitForStatus } from "../support/test-server.js";

const spec = {
	version: "0.9.0",
	inputs: { files: ["data/names.txt"], parameters: { who: "world", pause: 0 } },
	workflow: {
		type: "serial",
		specification: {
			steps: [
				{
					name: "greet",
					commands: ["mkdir -p results", 'echo "hello ${who}" > results/out.txt', "cat data/names.txt"],
				},
				{ name: "check", commands: ["test -s results/out.txt", "sleep ${pause}"] },
			],
		},
	},
	outputs: { files: ["results/out.txt"] },
};

describe.each(testDialects)("workflow API on %s", (dialect) => {
	let t: TestServer;
	let alice: { id: string; token: string };
	let bob: { id: string; token: string };

	beforeAll(async () => {
		t = await startTestServer(dialect);
		alice = await t.user("alice@example.org");
		bob = await t.user("bob@example.org");
	});
	afterAll(async () => t?.close());

	async function created(name: string, body: unknown = spec): Promise<{ workflow_id: string; workflow_name: string }> {
		const res = await t.call("POST", `/api/workflows?workflow_name=${name}`, { token: alice.token, body });
		expect(res.status).toBe(201);
		return (await res.json()) as { workflow_id: string; workflow_name: string };
	}

	it("answers ping without credentials and says who you are with them", async () => {
		expect(await (await t.call("GET", "/api/ping")).json()).toEqual({ message: "OK", status: "200" });
		const you = await t.call("GET", "/api/you", { token: alice.token });
		expect(you.status).toBe(200);
		expect(await you.json()).toMatchObject({ email: "alice@example.org", id: alice.id });
		const bearer = await t.call("GET", "/api/you", { token: alice.token, bearer: true });
		expect(bearer.status).toBe(200);
	});

	it("runs a serial workflow end to end: create, upload, start, status, logs, files, download", async () => {
		const wf = await created("hello");
		expect(wf.workflow_name).toBe("hello.1");
		const up = await t.call("POST", `/api/workflows/${wf.workflow_name}/workspace?file_name=/data/names.txt`, {
			token: alice.token,
			raw: "Ada\nGrace\n",
		});
		expect(up.status).toBe(200);
		const start = await t.call("POST", `/api/workflows/${wf.workflow_name}/start`, {
			token: alice.token,
			body: { input_parameters: { who: "orrery" } },
		});
		expect(start.status).toBe(200);
		expect(await start.json()).toMatchObject({ status: "queued", workflow_name: "hello", run_number: 1 });
		const status = await waitForStatus(t, alice.token, "hello.1");
		expect(status).toMatchObject({ status: "finished", name: "hello.1" });
		expect(status.progress).toMatchObject({ total: { total: 5 }, finished: { total: 5 }, failed: { total: 0 } });
		const file = await t.call("GET", "/api/workflows/hello.1/workspace/results/out.txt", { token: alice.token });
		expect(file.status).toBe(200);
		expect(file.headers.get("content-disposition")).toMatch(/filename="results\/out.txt"/);
		expect(await file.text()).toBe("hello orrery\n");
		const logs = (await (await t.call("GET", "/api/workflows/hello/logs", { token: alice.token })).json()) as {
			logs: string;
		};
		const doc = JSON.parse(logs.logs) as {
			workflow_logs: string;
			job_logs: Record<string, { job_name: string; logs: string; status: string }>;
		};
		const jobs = Object.values(doc.job_logs);
		expect(jobs.map((j) => j.job_name)).toEqual(["greet", "greet", "greet", "check", "check"]);
		expect(jobs[2]?.logs).toBe("Ada\nGrace\n");
		expect(jobs.every((j) => j.status === "finished")).toBe(true);
		expect(doc.workflow_logs).toMatch(/workflow finished successfully/);
		// A follower asks for some jobs by id with their log sizes, to read only logs that grew.
		const ids = Object.keys(doc.job_logs);
		const some = (await (
			await t.call("GET", `/api/workflows/hello.1/jobs?ids=${ids[2]},${ids[0]},not-a-job&log_sizes=true`, {
				token: alice.token,
			})
		).json()) as { total: number; items: Array<{ id: string; stdout_bytes?: number; stderr_bytes?: number }> };
		expect(some.total).toBe(2);
		expect(some.items.map((j) => j.id)).toEqual([ids[0], ids[2]]);
		expect(some.items[1]).toMatchObject({ stdout_bytes: "Ada\nGrace\n".length, stderr_bytes: 0 });
		const plain = (await (
			await t.call("GET", `/api/workflows/hello.1/jobs?ids=${ids[2]}`, { token: alice.token })
		).json()) as { items: Array<Record<string, unknown>> };
		expect(plain.items[0]).not.toHaveProperty("stdout_bytes");
		const ls = (await (await t.call("GET", "/api/workflows/hello.1/workspace", { token: alice.token })).json()) as {
			items: Array<{ name: string }>;
		};
		expect(ls.items.map((i) => i.name)).toEqual(["data/names.txt", "results/out.txt"]);
		const zip = await t.call("GET", "/api/workflows/hello.1/workspace/results", { token: alice.token });
		expect(zip.headers.get("content-type")).toBe("application/zip");
		expect(
			Buffer.from(await zip.arrayBuffer())
				.subarray(0, 2)
				.toString(),
		).toBe("PK");
	});

	it("fails the run with the step, the exit code and the end of its log", async () => {
		const failing = {
			workflow: {
				type: "serial",
				specification: { steps: [{ name: "boom", commands: ["echo about to fail; echo oops >&2; exit 3"] }] },
			},
		};
		await created("failing", failing);
		await t.call("POST", "/api/workflows/failing/start", { token: alice.token, body: {} });
		const status = (await waitForStatus(t, alice.token, "failing")) as { status: string; message: string };
		expect(status.status).toBe("failed");
		expect(status.message).toMatch(/step 'boom' failed with exit code 3/);
		expect(status.message).toMatch(/about to fail\noops/);
	});

	it("runs only the steps between FROM and TARGET", async () => {
		await created("sliced");
		await t.call("POST", "/api/workflows/sliced/workspace?file_name=data/names.txt", {
			token: alice.token,
			raw: "x\n",
		});
		await t.call("POST", "/api/workflows/sliced/start", {
			token: alice.token,
			body: { operational_options: { FROM: "check", TARGET: "check" } },
		});
		const status = (await waitForStatus(t, alice.token, "sliced")) as { status: string; message: string };
		// results/out.txt is made by the skipped step, so `test -s` fails: proof that greet did not run.
		expect(status.status).toBe("failed");
		expect(status.message).toMatch(/step 'check' failed with exit code 1/);
	});

	it("stops a running run and kills its whole process group", async () => {
		const slow = {
			workflow: {
				type: "serial",
				specification: { steps: [{ name: "slow", commands: ["sh -c 'sleep 60' & sleep 60; echo never > never.txt"] }] },
			},
		};
		await created("slow", slow);
		await t.call("POST", "/api/workflows/slow/start", { token: alice.token, body: {} });
		for (let i = 0; i < 100; i++) {
			const s = (await (await t.call("GET", "/api/workflows/slow/status", { token: alice.token })).json()) as {
				status: string;
			};
			if (s.status === "running") break;
			await new Promise((r) => setTimeout(r, 100));
		}
		const jobs = (await (await t.call("GET", "/api/workflows/slow/jobs", { token: alice.token })).json()) as {
			items: Array<{ backend_job_id: string }>;
		};
		const jobDir = jobs.items[0]?.backend_job_id as string;
		const { existsSync, readFileSync } = await import("node:fs");
		// The run is running once its job went to the backend; the wrapper records its pid a moment later
		// (the file is only read, never created here: it is the wrapper's lock).
		let pid = 0;
		for (let i = 0; i < 100 && !pid; i++) {
			if (existsSync(`${jobDir}/pid`)) pid = Number(readFileSync(`${jobDir}/pid`, "utf8").trim());
			if (!pid) await new Promise((r) => setTimeout(r, 50));
		}
		expect(pid).toBeGreaterThan(0);
		const stop = await t.call("PUT", "/api/workflows/slow/status?status=stop", { token: alice.token, body: {} });
		expect(stop.status).toBe(200);
		expect(await stop.json()).toMatchObject({ status: "stopped" });
		await new Promise((r) => setTimeout(r, 300));
		expect(liveProcessesInGroup(pid)).toEqual([]); // (zombies waiting for init to reap them do not count)
		const again = await t.call("PUT", "/api/workflows/slow/status?status=stop", { token: alice.token, body: {} });
		expect(again.status).toBe(409);
	});

	it("long-polls a run's events: the first news answers, or with until=end only the run's end", async () => {
		type Events = { status: string; items: Array<{ id: number; type: string }> };
		const paced = {
			workflow: {
				type: "serial",
				specification: {
					steps: [
						{ name: "one", commands: ["sleep 1"] },
						{ name: "two", commands: ["sleep 1"] },
					],
				},
			},
		};
		await created("paced", paced);
		await t.call("POST", "/api/workflows/paced/start", { token: alice.token, body: {} });
		const events = async (query: string) => {
			const res = await t.call("GET", `/api/workflows/paced/events?${query}`, { token: alice.token });
			expect(res.status).toBe(200);
			return (await res.json()) as Events;
		};
		// Without `until`, a wait ends with the first events after `after`, while the run goes on.
		const first = await events("wait=20");
		const last = Math.max(...first.items.map((e) => e.id));
		const t0 = Date.now();
		const news = await events(`after=${last}&wait=20`);
		expect(news.items.length).toBeGreaterThan(0);
		expect(news.items.every((e) => e.id > last)).toBe(true);
		expect(Date.now() - t0).toBeLessThan(1_900); // the next step's start, not the run's end (~2 s)
		// With until=end, one answer when the run has ended, holding every event after `after`.
		const end = await events(`after=${last}&wait=20&until=end`);
		expect(end.status).toBe("finished");
		expect(end.items.map((e) => e.type)).toContain("workflow_finished");
		expect(end.items.map((e) => e.type)).toEqual(expect.arrayContaining(news.items.map((e) => e.type)));
		// A run that has ended answers at once; a wait past the limit is refused.
		const t1 = Date.now();
		expect((await events("wait=20&until=end")).status).toBe("finished");
		expect(Date.now() - t1).toBeLessThan(1_000);
		const bad = await t.call("GET", "/api/workflows/paced/events?wait=20&until=later", { token: alice.token });
		expect(bad.status).toBe(400);
	});

	it("lists runs with a status filter, a name search and pagination", async () => {
		await created("listing");
		await created("listing");
		const page = (await (
			await t.call("GET", "/api/workflows?type=batch&search=listing&size=1&page=2", { token: alice.token })
		).json()) as {
			items: Array<{ name: string }>;
			total: number;
			has_prev: boolean;
		};
		expect(page.total).toBe(2);
		expect(page.items.map((i) => i.name)).toEqual(["listing.1"]);
		expect(page.has_prev).toBe(true);
		const finished = (await (await t.call("GET", "/api/workflows?status=finished", { token: alice.token })).json()) as {
			items: Array<{ name: string; status: string }>;
		};
		expect(finished.items.length).toBeGreaterThan(0);
		expect(finished.items.every((i) => i.status === "finished")).toBe(true);
		const bobs = (await (await t.call("GET", "/api/workflows", { token: bob.token })).json()) as { total: number };
		expect(bobs.total).toBe(0);
	});

	it("deletes a run and its workspace", async () => {
		const wf = await created("doomed");
		const del = await t.call("PUT", `/api/workflows/${wf.workflow_id}/status?status=deleted`, {
			token: alice.token,
			body: { workspace: true },
		});
		expect(del.status).toBe(200);
		const status = await t.call("GET", `/api/workflows/${wf.workflow_id}/status`, { token: alice.token });
		expect(status.status).toBe(404);
	});

	describe("bad input", () => {
		it.each([
			["no token", undefined, 401, /no access token/],
			["a wrong token", "orr_thisIsNotAToken", 403, /not valid/],
		])("answers %s on a protected route", async (_name, token, code, message) => {
			const res = await t.call("GET", "/api/workflows", token ? { token } : {});
			expect(res.status).toBe(code);
			const body = (await res.json()) as { message: string };
			expect(body.message).toMatch(message);
			expect(JSON.stringify(body)).not.toMatch(/at .*\.js/); // no stack trace
		});

		it("refuses a revoked token with 403", async () => {
			const carol = await t.user("carol@example.org");
			const { revokeToken, findTokenByHash } = await import("../../src/db/index.js");
			const { hashToken } = await import("../../src/auth/index.js");
			const found = await findTokenByHash(t.server.db, hashToken(carol.token));
			await revokeToken(t.server.db, found?.token.id as string, new Date().toISOString());
			const res = await t.call("GET", "/api/you", { token: carol.token });
			expect(res.status).toBe(403);
			expect(((await res.json()) as { message: string }).message).toMatch(/revoked/);
		});

		it("answers 404 for an unknown workflow and 403 for someone else's", async () => {
			const res = await t.call("GET", "/api/workflows/nope/status", { token: alice.token });
			expect(res.status).toBe(404);
			expect(((await res.json()) as { message: string }).message).toMatch(/workflow 'nope' not found/);
			const mine = await created("private");
			const theirs = await t.call("GET", `/api/workflows/${mine.workflow_id}/status`, { token: bob.token });
			expect(theirs.status).toBe(403);
			const byName = await t.call("GET", "/api/workflows/private/status", { token: bob.token });
			expect(byName.status).toBe(404);
		});

		it("rejects an invalid specification with the path and a hint", async () => {
			const res = await t.call("POST", "/api/workflows?workflow_name=bad", {
				token: alice.token,
				body: { workflow: { type: "serial", specification: { steps: [] } } },
			});
			expect(res.status).toBe(400);
			const body = (await res.json()) as { message: string; code: string };
			expect(body.code).toBe("validation_failed");
			expect(body.message).toMatch(/workflow\.specification\.steps must have at least 1 item/);
		});

		it("rejects malformed JSON", async () => {
			const res = await t.call("POST", "/api/workflows?workflow_name=x", {
				token: alice.token,
				raw: "{not json",
				headers: { "content-type": "application/json" },
			});
			expect(res.status).toBe(400);
			expect(((await res.json()) as { message: string }).message).toMatch(/not valid JSON/);
		});

		it.each(["../escape.txt", "/etc/passwd", "a/../../b", ".orrery/jobs/x"])(
			"refuses to upload to %j",
			async (name) => {
				await created("paths");
				const res = await t.call("POST", `/api/workflows/paths/workspace?file_name=${encodeURIComponent(name)}`, {
					token: alice.token,
					raw: "x",
				});
				// A leading slash is stripped as REANA does; the rest must be rejected.
				if (name === "/etc/passwd") {
					expect(res.status).toBe(200);
					const ls = (await (await t.call("GET", "/api/workflows/paths/workspace", { token: alice.token })).json()) as {
						items: Array<{ name: string }>;
					};
					expect(ls.items.map((i) => i.name)).toContain("etc/passwd");
					return;
				}
				expect(res.status).toBe(400);
				expect(((await res.json()) as { message: string }).message).toMatch(/not allowed/);
			},
		);

		it("refuses to download through .. or a symlink out of the workspace", async () => {
			await created("escape");
			const { symlinkSync } = await import("node:fs");
			const status = (await (await t.call("GET", "/api/workflows/escape/status", { token: alice.token })).json()) as {
				workspace_path: string;
			};
			symlinkSync("/etc", `${status.workspace_path}/etc-link`);
			const viaLink = await t.call("GET", "/api/workflows/escape/workspace/etc-link/hostname", { token: alice.token });
			expect(viaLink.status).toBe(400);
			const viaDots = await t.call("GET", "/api/workflows/escape/workspace/..%2F..%2Fsecret", { token: alice.token });
			expect(viaDots.status).toBe(400);
			const missing = await t.call("GET", "/api/workflows/escape/workspace/nothing.txt", { token: alice.token });
			expect(missing.status).toBe(404);
		});

		it("refuses to start when a declared input is missing", async () => {
			await created("noinput");
			const res = await t.call("POST", "/api/workflows/noinput/start", { token: alice.token, body: {} });
			expect(res.status).toBe(400);
			expect(((await res.json()) as { message: string }).message).toMatch(
				/declared input missing from the workspace: data\/names\.txt/,
			);
		});

		it("refuses unknown parameters and FROM naming no step", async () => {
			await created("opts");
			await t.call("POST", "/api/workflows/opts/workspace?file_name=data/names.txt", { token: alice.token, raw: "x" });
			const p = await t.call("POST", "/api/workflows/opts/start", {
				token: alice.token,
				body: { input_parameters: { nope: 1 } },
			});
			expect(p.status).toBe(400);
			expect(((await p.json()) as { message: string }).message).toMatch(/unknown input parameter nope/);
			const o = await t.call("POST", "/api/workflows/opts/start", {
				token: alice.token,
				body: { operational_options: { FROM: "ghost" } },
			});
			expect(o.status).toBe(400);
			expect(((await o.json()) as { message: string }).message).toMatch(/FROM=ghost names no step/);
		});

		it("refuses to start a run twice and to delete a running run", async () => {
			const slow = { workflow: { type: "serial", specification: { steps: [{ commands: ["sleep 30"] }] } } };
			await created("twice", slow);
			expect((await t.call("POST", "/api/workflows/twice/start", { token: alice.token, body: {} })).status).toBe(200);
			const again = await t.call("POST", "/api/workflows/twice/start", { token: alice.token, body: {} });
			expect(again.status).toBe(409);
			const del = await t.call("PUT", "/api/workflows/twice/status?status=deleted", { token: alice.token, body: {} });
			expect(del.status).toBe(409);
			expect(((await del.json()) as { message: string }).message).toMatch(/stop it first/);
			await t.call("PUT", "/api/workflows/twice/status?status=stop", { token: alice.token, body: {} });
		});

		it("answers 404 in JSON for an unknown endpoint", async () => {
			const res = await t.call("GET", "/api/nothing-here", { token: alice.token });
			expect(res.status).toBe(404);
			expect(res.headers.get("content-type")).toMatch(/application\/json/);
		});
	});

	it("serves the OpenAPI document generated from the route schemas", async () => {
		const doc = (await (await t.call("GET", "/api/openapi.json")).json()) as {
			openapi: string;
			paths: Record<string, unknown>;
		};
		expect(doc.openapi).toMatch(/^3\./);
		expect(Object.keys(doc.paths)).toContain("/api/workflows/{workflow_id_or_name}/status");
	});
});

/** Processes of a process group that are still alive (not zombies). */
function liveProcessesInGroup(pgid: number): string[] {
	const out = execFileSync("ps", ["-eo", "pgid=,stat=,args="]).toString();
	return out
		.split("\n")
		.map((l) => l.trim())
		.filter((l) => l.startsWith(`${pgid} `) && !/^\d+\s+Z/.test(l));
}

describe("downloads in ranges", () => {
	it("answers one byte range with 206 and refuses a range outside the file with 416", async () => {
		const t = await startTestServer("sqlite");
		try {
			const { token } = await t.user("range@example.org");
			await t.call("POST", "/api/workflows?workflow_name=ranged", {
				token,
				body: { workflow: { type: "serial", specification: { steps: [{ commands: ["true"] }] } } },
			});
			await t.call("POST", "/api/workflows/ranged/workspace?file_name=data.txt", { token, raw: "0123456789" });
			const part = await t.call("GET", "/api/workflows/ranged/workspace/data.txt", {
				token,
				headers: { range: "bytes=2-5" },
			});
			expect(part.status).toBe(206);
			expect(part.headers.get("content-range")).toBe("bytes 2-5/10");
			expect(await part.text()).toBe("2345");
			const tail = await t.call("GET", "/api/workflows/ranged/workspace/data.txt", {
				token,
				headers: { range: "bytes=-3" },
			});
			expect(await tail.text()).toBe("789");
			const from = await t.call("GET", "/api/workflows/ranged/workspace/data.txt", {
				token,
				headers: { range: "bytes=7-" },
			});
			expect(await from.text()).toBe("789");
			const outside = await t.call("GET", "/api/workflows/ranged/workspace/data.txt", {
				token,
				headers: { range: "bytes=20-30" },
			});
			expect(outside.status).toBe(416);
			expect(((await outside.json()) as { message: string }).message).toMatch(/outside the file \(10 bytes\)/);
			const whole = await t.call("GET", "/api/workflows/ranged/workspace/data.txt", { token });
			expect(whole.headers.get("accept-ranges")).toBe("bytes");
			expect(await whole.text()).toBe("0123456789");
		} finally {
			await t.close();
		}
	});
});
