import { existsSync } from "node:fs";
import { join } from "node:path";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { applyDueRetentionRules } from "../../src/scheduler/index.js";
import { testDialects } from "../support/databases.js";
import { addS3Secrets, type S3Service, s3Service } from "../support/staging-services.js";
import { startTestServer, type TestServer, waitForRetentionRules, waitForStatus } from "../support/test-server.js";

describe.each(testDialects)("retention keeps declared inputs and outputs (%s)", (dialect) => {
	let t: TestServer;
	let s3: S3Service;
	let token: string;

	beforeAll(async () => {
		s3 = s3Service();
		await s3.put("retention/remote.bin", "remote\n");
		t = await startTestServer(dialect, {
			env: { ORRERY_S3_ENDPOINT: s3.endpoint, ORRERY_STAGING_ALLOW_PRIVATE: "127.0.0.1" },
		});
		token = (await t.user("keeper@example.org")).token;
		await addS3Secrets(t, token, s3);
	});
	afterAll(async () => t?.close());

	it("deletes what the rules name when their day comes, never a declared input, a staged input or an output", async () => {
		const spec = {
			inputs: {
				files: ["input.txt"],
				directories: ["refs"],
				remote: [{ url: `s3://${s3.bucket}/retention/remote.bin`, path: "data/remote.bin" }],
			},
			outputs: { files: ["results/out.txt"], directories: ["plots"] },
			workspace: { retention_days: { "**/*.tmp": 1, "scratch.txt": 2, "**/*.txt": 3, "**/*.bin": 3 } },
			workflow: {
				type: "serial",
				specification: {
					steps: [
						{
							commands: [
								"mkdir -p results plots tmp && echo o > results/out.txt && echo p > plots/p.txt && echo s > scratch.txt && echo t > tmp/x.tmp && echo n > notes.txt",
							],
						},
					],
				},
			},
		};
		await t.call("POST", "/api/workflows?workflow_name=keep", { token, body: spec });
		await t.call("POST", "/api/workflows/keep/workspace?file_name=input.txt", { token, raw: "in\n" });
		await t.call("POST", "/api/workflows/keep/workspace?file_name=refs/r.txt", { token, raw: "ref\n" });
		await t.call("POST", "/api/workflows/keep/start", { token, body: {} });
		const status = (await waitForStatus(t, token, "keep")) as {
			status: string;
			message: string;
			workspace_path: string;
		};
		expect(status.status, status.message).toBe("finished");
		await waitForRetentionRules(t, token, "keep");
		const ws = status.workspace_path;
		const logger = pino({ level: "silent" });
		const day = 86_400_000;
		// Nothing is due yet.
		expect(await applyDueRetentionRules(t.server.db, new Date(Date.now() + day / 2), logger)).toBe(0);
		await applyDueRetentionRules(t.server.db, new Date(Date.now() + day * 1.5), logger);
		expect(existsSync(join(ws, "tmp/x.tmp"))).toBe(false);
		expect(existsSync(join(ws, "scratch.txt"))).toBe(true);
		// A rule naming one file deletes that file (it used to match only folders).
		await applyDueRetentionRules(t.server.db, new Date(Date.now() + day * 2.5), logger);
		expect(existsSync(join(ws, "scratch.txt"))).toBe(false);
		await applyDueRetentionRules(t.server.db, new Date(Date.now() + day * 4), logger);
		expect(existsSync(join(ws, "notes.txt"))).toBe(false);
		for (const kept of ["input.txt", "refs/r.txt", "data/remote.bin", "results/out.txt", "plots/p.txt"]) {
			expect(existsSync(join(ws, kept)), kept).toBe(true);
		}
		const rules = (await (await t.call("GET", "/api/workflows/keep/retention_rules", { token })).json()) as {
			retention_rules: Array<{ status: string }>;
		};
		expect(rules.retention_rules.every((r) => r.status === "applied")).toBe(true);
	});

	const steps = (commands: string[]) => ({ type: "serial", specification: { steps: [{ commands }] } });
	const day = 86_400_000;
	const logger = pino({ level: "silent" });

	it("deletes a file whose name looks like a glob, and only that file", async () => {
		const spec = {
			inputs: { files: ["sample1.csv", "results/summary.csv"] },
			workspace: { retention_days: { "**/*.csv": 1 } },
			workflow: steps(["echo a > 'sample[1].csv' && echo b > 'results/{summary,x}.csv'"]),
		};
		await t.call("POST", "/api/workflows?workflow_name=globby", { token, body: spec });
		await t.call("POST", "/api/workflows/globby/workspace?file_name=sample1.csv", { token, raw: "in\n" });
		await t.call("POST", "/api/workflows/globby/workspace?file_name=results/summary.csv", { token, raw: "in\n" });
		await t.call("POST", "/api/workflows/globby/start", { token, body: {} });
		const status = (await waitForStatus(t, token, "globby")) as {
			status: string;
			message: string;
			workspace_path: string;
		};
		expect(status.status, status.message).toBe("finished");
		await waitForRetentionRules(t, token, "globby");
		await applyDueRetentionRules(t.server.db, new Date(Date.now() + day * 1.5), logger);
		const ws = status.workspace_path;
		expect(existsSync(join(ws, "sample[1].csv"))).toBe(false);
		expect(existsSync(join(ws, "results/{summary,x}.csv"))).toBe(false);
		expect(existsSync(join(ws, "sample1.csv"))).toBe(true);
		expect(existsSync(join(ws, "results/summary.csv"))).toBe(true);
	});

	it("waits while a restart uses the workspace, then keeps what any run sharing it declares", async () => {
		const spec = {
			outputs: { files: ["parent-out.txt"] },
			workspace: { retention_days: { "*.txt": 1 } },
			workflow: steps(["echo p > parent-out.txt && echo s > scratch.txt"]),
		};
		await t.call("POST", "/api/workflows?workflow_name=shared", { token, body: spec });
		await t.call("POST", "/api/workflows/shared/start", { token, body: {} });
		const parent = (await waitForStatus(t, token, "shared")) as {
			status: string;
			message: string;
			workspace_path: string;
		};
		expect(parent.status, parent.message).toBe("finished");
		await waitForRetentionRules(t, token, "shared");
		const restarted = await t.call("POST", "/api/workflows/shared/start", {
			token,
			body: {
				restart: true,
				reana_specification: {
					...spec,
					outputs: { files: ["restart-out.txt"] },
					workspace: {},
					workflow: steps(["sleep 2 && echo r > restart-out.txt"]),
				},
			},
		});
		expect(restarted.status, await restarted.clone().text()).toBeLessThan(300);
		const ws = parent.workspace_path;
		// The restart is active: its workspace is left alone, the rule stays due.
		await applyDueRetentionRules(t.server.db, new Date(Date.now() + day * 1.5), logger);
		expect(existsSync(join(ws, "scratch.txt"))).toBe(true);
		const ended = (await waitForStatus(t, token, "shared.1.1")) as { status: string; message: string };
		expect(ended.status, ended.message).toBe("finished");
		await applyDueRetentionRules(t.server.db, new Date(Date.now() + day * 1.5), logger);
		expect(existsSync(join(ws, "scratch.txt"))).toBe(false);
		expect(existsSync(join(ws, "parent-out.txt"))).toBe(true);
		expect(existsSync(join(ws, "restart-out.txt"))).toBe(true);
	});

	it("rules that wait for a busy workspace do not hold back later rules, however many they are", async () => {
		// 120 rules of one run, due first, wait while its restart runs; another run's rule is due later.
		const many = Object.fromEntries(Array.from({ length: 120 }, (_, i) => [`waiting-${i}.txt`, 1]));
		const busy = { workspace: { retention_days: many }, workflow: steps(["echo w > waiting-0.txt"]) };
		await t.call("POST", "/api/workflows?workflow_name=busy", { token, body: busy });
		await t.call("POST", "/api/workflows/busy/start", { token, body: {} });
		const parent = (await waitForStatus(t, token, "busy")) as { status: string; workspace_path: string };
		expect(parent.status).toBe("finished");
		await waitForRetentionRules(t, token, "busy");
		const restarted = await t.call("POST", "/api/workflows/busy/start", {
			token,
			body: { restart: true, reana_specification: { ...busy, workspace: {}, workflow: steps(["sleep 20"]) } },
		});
		expect(restarted.status, await restarted.clone().text()).toBeLessThan(300);
		const later = { workspace: { retention_days: { "scratch.txt": 1 } }, workflow: steps(["echo s > scratch.txt"]) };
		await t.call("POST", "/api/workflows?workflow_name=later", { token, body: later });
		await t.call("POST", "/api/workflows/later/start", { token, body: {} });
		const other = (await waitForStatus(t, token, "later")) as { status: string; workspace_path: string };
		expect(other.status).toBe("finished");
		await waitForRetentionRules(t, token, "later");
		await applyDueRetentionRules(t.server.db, new Date(Date.now() + day * 1.5), logger);
		expect(existsSync(join(other.workspace_path, "scratch.txt"))).toBe(false);
		expect(existsSync(join(parent.workspace_path, "waiting-0.txt"))).toBe(true);
		await t.call("POST", "/api/workflows/busy.1.1/stop", { token, body: {} });
	});
});
