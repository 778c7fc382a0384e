// A job can write its own job folder (it is inside the workspace, which containers and batch jobs see):
// what it puts there must not make the server read files outside it, or wait forever.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer, waitForStatus } from "../support/test-server.js";

describe("a job that tampers with its own job folder", () => {
	let t: TestServer;
	let token: string;
	let outside: string;

	beforeAll(async () => {
		t = await startTestServer("sqlite");
		token = (await t.user("tamper@example.org")).token;
		outside = mkdtempSync(join(tmpdir(), "orrery-outside-"));
		writeFileSync(join(outside, "secret.txt"), "TOPSECRET of the server\n");
	}, 60_000);
	afterAll(async () => {
		await t?.close();
		rmSync(outside, { recursive: true, force: true });
	});

	it("gets its log read only as a regular file: a link to a server file reads as empty, a FIFO does not hang the server", async () => {
		const command = [
			"echo started",
			'f=$(find "$PWD/.orrery/jobs" -name stdout | head -1)',
			'd=$(dirname "$f")',
			'rm "$f"',
			`ln -s ${join(outside, "secret.txt")} "$f"`,
			'rm -f "$d/stderr"',
			'mkfifo "$d/stderr"',
		].join("; ");
		const created = await t.call("POST", "/api/workflows?workflow_name=tamper", {
			token,
			body: { workflow: { type: "serial", specification: { steps: [{ name: "s", commands: [command] }] } } },
		});
		expect(created.status).toBe(201);
		expect((await t.call("POST", "/api/workflows/tamper/start", { token, body: {} })).status).toBe(200);
		const status = await waitForStatus(t, token, "tamper");
		expect(status.status, String(status.message)).toBe("finished");
		const logs = await t.call("GET", "/api/workflows/tamper/logs", { token });
		expect(logs.status).toBe(200);
		const text = await logs.text();
		expect(text).not.toContain("TOPSECRET");
		const jobs = (await (await t.call("GET", "/api/workflows/tamper/jobs?log_sizes=true", { token })).json()) as {
			items: Array<{ id: string; stdout_bytes: number; stderr_bytes: number }>;
		};
		expect(jobs.items[0]).toMatchObject({ stdout_bytes: 0, stderr_bytes: 0 });
		const id = jobs.items[0]?.id as string;
		for (const stream of ["stdout", "stderr"]) {
			const one = await t.call("GET", `/api/workflows/tamper/jobs/${id}/log?stream=${stream}`, {
				token,
				headers: {},
			});
			expect(one.status).toBe(200);
			expect(await one.text()).not.toContain("TOPSECRET");
		}
	}, 60_000);
});
