import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testDialects } from "../support/databases.js";
import { checkAgainstReana, operationFor, reanaOperations } from "../support/reana-openapi.js";
import { startTestServer, type TestServer, waitForRetentionRules, waitForStatus } from "../support/test-server.js";

// Operations of reana-server's document that this suite does not call, and why. Anything else that
// is not exercised fails the suite, so a new REANA endpoint cannot be forgotten.
const elsewhere: Record<string, string> = {
	"POST /api/workflows/{workflow_id_or_name}/share":
		"checked against REANA's document in test/auth/reana-identity.test.ts",
	"POST /api/workflows/{workflow_id_or_name}/unshare":
		"checked against REANA's document in test/auth/reana-identity.test.ts",
	"GET /api/workflows/{workflow_id_or_name}/share-status":
		"checked against REANA's document in test/auth/reana-identity.test.ts",
	"GET /api/users/shared-with-you": "checked against REANA's document in test/auth/reana-identity.test.ts",
	"GET /api/users/you-shared-with": "checked against REANA's document in test/auth/reana-identity.test.ts",
	"PUT /api/token": "checked against REANA's document in test/auth/reana-identity.test.ts",
	"DELETE /api/token": "checked against REANA's document in test/auth/reana-identity.test.ts",
};

// Answers that deliberately differ from REANA's document (docs/reana-compatibility.md explains each).
const deliberate = new Set(["501"]);

const spec = {
	version: "0.9.0",
	inputs: { files: ["data/in.txt"], parameters: { word: "hello" } },
	workflow: {
		type: "serial",
		specification: {
			steps: [
				{ name: "copy", commands: ["mkdir -p out", "cp data/in.txt out/copy.txt", "echo ${word} > out/word.txt"] },
			],
		},
	},
	outputs: { files: ["out/word.txt"] },
	workspace: { retention_days: { "out/copy.txt": 7 } },
};

describe.each(testDialects)(
	"REANA contract: every response checked against REANA's OpenAPI document (%s)",
	(dialect) => {
		let t: TestServer;
		let token: string;
		const exercised = new Set<string>();
		const violations: string[] = [];

		/** Calls the API like reana-client (access_token query) and checks the answer against REANA's document. */
		async function call(
			method: string,
			path: string,
			options: { body?: unknown; raw?: string; headers?: Record<string, string>; token?: string | null } = {},
		) {
			const res = await t.call(method, path, {
				...(options.token === null ? {} : { token: options.token ?? token }),
				...(options.body === undefined ? {} : { body: options.body }),
				...(options.raw === undefined ? {} : { raw: options.raw }),
				...(options.headers ? { headers: options.headers } : {}),
			});
			const type = res.headers.get("content-type") ?? "";
			const body: unknown = type.includes("application/json") ? await res.json() : await res.arrayBuffer();
			const found = operationFor(method, path);
			if (found) exercised.add(`${method} ${found.path}`);
			if (!deliberate.has(String(res.status)) && type.includes("application/json")) {
				violations.push(...checkAgainstReana(method, path, res.status, body));
			}
			if (res.status >= 400) expect(type, `${method} ${path}`).toMatch(/application\/json/);
			return { status: res.status, body: body as Record<string, unknown> & unknown[], headers: res.headers };
		}

		beforeAll(async () => {
			t = await startTestServer(dialect, { env: { ORRERY_QUOTA_MANAGEMENT_SECRET: "quota-secret" } });
			token = (await t.user("reana@example.org")).token;
		});
		afterAll(async () => t?.close());

		it("answers ping, you (with quota), info, config and status", async () => {
			expect((await call("GET", "/api/ping", { token: null })).status).toBe(200);
			const you = await call("GET", "/api/you");
			expect(you.body).toMatchObject({
				email: "reana@example.org",
				quota: { cpu: { health: "healthy" }, disk: { limit: { human_readable: "unlimited" } } },
			});
			const info = await call("GET", "/api/info");
			expect(info.body).toMatchObject({
				compute_backends: { value: expect.arrayContaining(["local"]) },
				workspaces_available: { value: expect.any(Array) },
			});
			expect((await call("GET", "/api/config")).status).toBe(200);
			expect((await call("GET", "/api/status")).body).toMatchObject({ workflow: { running: expect.any(Number) } });
		});

		it("creates, uploads, starts, inspects and restarts a run the way reana-client does", async () => {
			const created = await call("POST", "/api/workflows?workflow_name=contract", { body: spec });
			expect(created.status).toBe(201);
			expect(created.body.workflow_name).toBe("contract.1");
			expect(
				(await call("POST", "/api/workflows/contract.1/workspace?file_name=/data/in.txt", { raw: "payload\n" })).status,
			).toBe(200);
			const ls = await call("GET", "/api/workflows/contract.1/workspace");
			expect(ls.body.items).toHaveLength(1);
			const started = await call("PUT", "/api/workflows/contract.1/status?status=start", {
				body: { input_parameters: { word: "world" } },
			});
			expect(started.body).toMatchObject({ status: "queued" });
			await waitForStatus(t, token, "contract.1");
			const status = await call("GET", "/api/workflows/contract.1/status");
			expect(status.body).toMatchObject({ status: "finished", progress: { finished: { total: 3 } } });
			expect((await call("GET", "/api/workflows/contract.1/logs")).body.logs).toEqual(expect.any(String));
			expect((await call("GET", "/api/workflows/contract.1/specification")).body).toMatchObject({
				parameters: { word: "world" },
			});
			expect((await call("GET", "/api/workflows/contract.1/parameters")).body).toMatchObject({
				parameters: { word: "world" },
				type: "serial",
			});
			const du = await call("GET", "/api/workflows/contract.1/disk_usage");
			// As REANA's `du -a`: files and folders, each folder after what it holds, the workspace ("") last.
			expect((du.body.disk_usage_info as Array<{ name: string }>).map((d) => d.name)).toEqual([
				"/data/in.txt",
				"/data",
				"/out/copy.txt",
				"/out/word.txt",
				"/out",
				"",
			]);
			await waitForRetentionRules(t, token, "contract.1"); // activated just after the run is reported ended
			const rules = await call("GET", "/api/workflows/contract.1/retention_rules");
			expect(rules.body.retention_rules).toEqual([
				expect.objectContaining({ workspace_files: "out/copy.txt", retention_days: 7, status: "active" }),
			]);
			const file = await call("GET", "/api/workflows/contract.1/workspace/out/word.txt");
			expect(Buffer.from(file.body as unknown as ArrayBuffer).toString()).toBe("world\n");
			expect(file.headers.get("content-disposition")).toMatch(/word\.txt/);

			// Restart with FROM: a new run contract.1.1 in the same workspace.
			const restarted = await call("POST", "/api/workflows/contract.1/start", {
				body: { restart: true, operational_options: { FROM: "copy" }, input_parameters: { word: "again" } },
			});
			// As reana-server answers a start: the base name and run_number, which reana-client joins.
			expect(restarted.body).toMatchObject({ workflow_name: "contract", run_number: "1.1" });
			await waitForStatus(t, token, "contract.1.1");
			const again = await call("GET", "/api/workflows/contract.1.1/workspace/out/word.txt");
			expect(Buffer.from(again.body as unknown as ArrayBuffer).toString()).toBe("again\n");
			const diff = await call("GET", "/api/workflows/contract.1/diff/contract.1.1");
			const sections = JSON.parse(diff.body.reana_specification as string) as Record<string, string[]>;
			expect(sections.parameters?.join("\n")).toMatch(/-\s+"word": "world"\n\+\s+"word": "again"/);
			expect(JSON.parse(diff.body.workspace_listing as string)).toBe(""); // one workspace: no difference
			const list = await call(
				"GET",
				"/api/workflows?type=batch&search=contract&sort=asc&page=1&size=10&include_progress=true",
			);
			expect((list.body.items as Array<{ name: string }>).map((i) => i.name)).toEqual(["contract.1", "contract.1.1"]);
		});

		it("moves, prunes and deletes workspace files", async () => {
			await call("POST", "/api/workflows?workflow_name=files", { body: spec });
			await call("POST", "/api/workflows/files/workspace?file_name=data/in.txt", { raw: "x" });
			await call("POST", "/api/workflows/files/workspace?file_name=scratch/a.tmp", { raw: "tmp" });
			await call("POST", "/api/workflows/files/workspace?file_name=scratch/b.tmp", { raw: "tmp" });
			const mv = await call("PUT", "/api/workflows/move_files/files?source=scratch/a.tmp&target=kept/a.tmp");
			expect(mv.status).toBe(200);
			const del = await call("DELETE", "/api/workflows/files/workspace/kept/a.tmp");
			expect(del.body).toMatchObject({ deleted: { "kept/a.tmp": { size: 3 } } });
			const prune = await call("POST", "/api/workflows/files/prune");
			expect(prune.body.message).toMatch(/1 file deleted/);
			const ls = await call("GET", "/api/workflows/files/workspace");
			expect((ls.body.items as Array<{ name: string }>).map((i) => i.name)).toEqual(["data/in.txt"]);
			const summary = await call("GET", "/api/workflows/files/disk_usage?summarize=true");
			expect(summary.body.disk_usage_info).toEqual([{ name: "", size: { raw: 1, human_readable: "1 Bytes" } }]);
		});

		it("stores secrets encrypted, never returns values, and deletes them", async () => {
			const value = Buffer.from("s3cr3t").toString("base64");
			const added = await call("POST", "/api/secrets/", {
				body: { API_KEY: { value, type: "env" }, "token.txt": { value, type: "file" } },
			});
			expect(added.status).toBe(201);
			const list = await call("GET", "/api/secrets");
			expect(list.body).toEqual([
				{ name: "API_KEY", type: "env" },
				{ name: "token.txt", type: "file" },
			]);
			expect(JSON.stringify(list.body)).not.toContain(value);
			const stored = await t.server.db.kysely.selectFrom("secrets").select("value").execute();
			for (const s of stored) expect(s.value).not.toContain(value);
			const clash = await call("POST", "/api/secrets/", { body: { API_KEY: { value, type: "env" } } });
			expect(clash.status).toBe(409);
			expect(
				(await call("POST", "/api/secrets/?overwrite=true", { body: { API_KEY: { value, type: "env" } } })).status,
			).toBe(201);
			const deleted = await call("DELETE", "/api/secrets/", { body: ["token.txt"] });
			expect(deleted.body).toEqual(["token.txt"]);
			expect((await call("DELETE", "/api/secrets/", { body: ["nope"] })).status).toBe(404);
		});

		it("manages quotas with REANA's management secret and refuses work over the limit", async () => {
			const headers = { "X-Quota-Management-Secret": "quota-secret" };
			const set = await call("POST", "/api/quota", {
				body: { email: "reana@example.org", resource_type: "disk", limit: 1 },
				headers,
				token: null,
			});
			expect(set.body).toMatchObject({ limit: 1 });
			const patched = await call("PATCH", "/api/quota", {
				body: { email: "reana@example.org", resource_type: "disk" },
				headers,
				token: null,
			});
			expect(patched.status).toBe(200);
			const usage = await call("GET", "/api/quota?email=reana@example.org&resource_type=disk", {
				headers,
				token: null,
			});
			expect(Number(usage.body.usage)).toBeGreaterThan(1);
			const refused = await call("POST", "/api/workflows?workflow_name=over", { body: spec });
			expect(refused.status).toBe(403);
			expect(refused.body.message).toMatch(/disk quota exceeded/);
			const you = await call("GET", "/api/you");
			expect(you.body).toMatchObject({ quota: { disk: { health: "critical" } } });
			expect(
				(
					await call("GET", "/api/quota?email=reana@example.org&resource_type=disk", {
						headers: { "X-Quota-Management-Secret": "wrong" },
						token: null,
					})
				).status,
			).toBe(403);
			await call("POST", "/api/quota", {
				body: { email: "reana@example.org", resource_type: "disk", limit: 0 },
				headers,
				token: null,
			});
		});

		it("validates a specification without creating anything", async () => {
			const ok = await call("POST", "/api/workflows/validate", { body: spec });
			expect(ok.body).toMatchObject({ valid: true, errors: [] });
			const bad = await call("POST", "/api/workflows/validate", {
				body: { workflow: { type: "serial", specification: { steps: [] } } },
			});
			expect(bad.body).toMatchObject({
				valid: false,
				errors: [expect.objectContaining({ path: "workflow.specification.steps" })],
			});
		});

		it("answers REANA's 404s for interactive sessions it cannot open or close", async () => {
			const unknownType = await call("POST", "/api/workflows/contract.1/open/jupiter", { body: { image: null } });
			expect(unknownType.status).toBe(404);
			expect(unknownType.body.message).toBe("Interactive session type jupiter not found, try with one of: [jupyter].");
			const none = await call("POST", "/api/workflows/contract.1/close/", { body: {} });
			expect(none.status).toBe(404);
			expect(none.body.message).toMatch(/has no open interactive session/);
		});

		it("answers 501 with a clear message for launch and GitLab", async () => {
			for (const [method, path] of [
				["POST", "/api/launch"],
				["GET", "/api/gitlab"],
				["GET", "/api/gitlab/connect"],
				["GET", "/api/gitlab/projects"],
				["POST", "/api/gitlab/webhook"],
				["DELETE", "/api/gitlab/webhook"],
			] as const) {
				const res = await call(method, path);
				expect(res.status, `${method} ${path}`).toBe(501);
				expect(res.body.message).toMatch(/not available on this Orrery server/);
			}
		});

		it("answers REANA's errors: wrong token 403, unknown workflow 404, bad file names 400, running delete 409", async () => {
			expect((await call("GET", "/api/workflows", { token: "orr_not-a-token" })).status).toBe(403);
			expect((await call("GET", "/api/workflows/ghost/status")).status).toBe(404);
			expect((await call("POST", "/api/workflows/contract.1/workspace?file_name=../x", { raw: "x" })).status).toBe(400);
			expect((await call("GET", "/api/workflows/contract.1/workspace/missing.txt")).status).toBe(404);
			expect((await call("PUT", "/api/workflows/move_files/contract.1?source=../a&target=b")).status).toBe(400);
			const slow = { workflow: { type: "serial", specification: { steps: [{ commands: ["sleep 30"] }] } } };
			await call("POST", "/api/workflows?workflow_name=busy", { body: slow });
			await call("POST", "/api/workflows/busy/start", { body: {} });
			expect((await call("PUT", "/api/workflows/busy/status?status=deleted", { body: {} })).status).toBe(409);
			expect((await call("PUT", "/api/workflows/move_files/busy?source=a&target=b")).status).toBe(409);
			expect((await call("PUT", "/api/workflows/busy/status?status=stop", { body: {} })).status).toBe(200);
			expect(
				(await call("PUT", "/api/workflows/busy/status?status=deleted", { body: { all_runs: true, workspace: true } }))
					.status,
			).toBe(200);
			expect(
				(
					await call("POST", "/api/workflows/contract.1.1/start", {
						body: { restart: true, operational_options: { FROM: "nope" } },
					})
				).status,
			).toBe(400);
		});

		it("every response matched REANA's document, and every REANA operation was exercised", () => {
			expect(violations).toEqual([]);
			const missing = reanaOperations()
				.map((o) => `${o.method} ${o.path}`)
				.filter((k) => !exercised.has(k) && !(k in elsewhere));
			expect(missing).toEqual([]);
		});
	},
);
