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
});
