import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer, waitForStatus } from "../support/test-server.js";

describe("secrets reach jobs and leave no trace on disk", () => {
	let t: TestServer;
	let token: string;
	beforeAll(async () => {
		t = await startTestServer("sqlite");
		token = (await t.user("s@example.org")).token;
	});
	afterAll(async () => t?.close());

	it("injects env secrets as variables and file secrets as read-only files, removed when the job ends", async () => {
		const b64 = (s: string) => Buffer.from(s).toString("base64");
		await t.call("POST", "/api/secrets/", {
			token,
			body: {
				API_TOKEN: { value: b64("tok-123"), type: "env" },
				"cert.pem": { value: b64("-----CERT-----\n"), type: "file" },
			},
		});
		const spec = {
			workflow: {
				type: "serial",
				specification: {
					steps: [
						{
							name: "use",
							commands: [
								'echo "token=$API_TOKEN" > seen.txt; cat "$REANA_SECRETS_DIR/cert.pem" >> seen.txt; [ "$(stat -c %a "$REANA_SECRETS_DIR/cert.pem")" = 400 ] && echo read-only >> seen.txt',
							],
						},
					],
				},
			},
		};
		await t.call("POST", "/api/workflows?workflow_name=secretive", { token, body: spec });
		await t.call("POST", "/api/workflows/secretive/start", { token, body: {} });
		const status = (await waitForStatus(t, token, "secretive")) as {
			status: string;
			message: string;
			workspace_path: string;
		};
		expect(status.status, status.message).toBe("finished");
		const seen = await (await t.call("GET", "/api/workflows/secretive/workspace/seen.txt", { token })).text();
		expect(seen).toBe("token=tok-123\n-----CERT-----\nread-only\n");
		// The job folder keeps its logs but not the secrets, and no script holds their values.
		const jobs = (await (await t.call("GET", "/api/workflows/secretive/jobs", { token })).json()) as {
			items: Array<{ backend_job_id: string }>;
		};
		const jobDir = jobs.items[0]?.backend_job_id as string;
		expect(existsSync(join(jobDir, "secrets"))).toBe(false);
		expect(existsSync(join(jobDir, "secrets.env"))).toBe(false);
		const { readFileSync } = await import("node:fs");
		for (const f of readdirSync(jobDir)) {
			const path = join(jobDir, f);
			if (f === "lock") continue;
			expect(readFileSync(path, "utf8")).not.toContain("tok-123");
		}
		// Logs do not echo secret values (the command printed into a file, not to stdout).
		const logs = await (await t.call("GET", "/api/workflows/secretive/logs", { token })).text();
		expect(logs).not.toContain("tok-123");
	});
});
