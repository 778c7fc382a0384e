import { afterAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../support/test-server.js";

describe("Prometheus metrics", () => {
	const servers: TestServer[] = [];
	afterAll(async () => {
		for (const s of servers) await s.close();
	});

	it("serves request latencies, workflows by status and backend polls at /metrics, without a token", async () => {
		const t = await startTestServer("sqlite");
		servers.push(t);
		const { token } = await t.user("metrics@example.org");
		await t.call("POST", "/api/workflows?workflow_name=m", {
			token,
			body: { workflow: { type: "serial", specification: { steps: [{ commands: ["true"] }] } } },
		});
		const res = await fetch(`${t.url}/metrics`);
		expect(res.status).toBe(200);
		const text = await res.text();
		expect(text).toMatch(
			/orrery_http_request_duration_seconds_count\{route="\/api\/workflows",method="POST",status="201"\} 1/,
		);
		expect(text).toMatch(/orrery_workflows\{status="created"\} 1/);
		expect(text).toMatch(/# TYPE orrery_backend_polls_total counter/);
		expect(text).toMatch(/process_cpu_seconds_total/);
	});

	it("serves no metrics from the embedded server of a CLI command", async () => {
		const t = await startTestServer("sqlite");
		servers.push(t);
		const embedded = await startTestServer("sqlite", { config: { ...t.config, metrics: false } });
		servers.push(embedded);
		// (The path then falls to the web UI, as any unknown page does.)
		const res = await fetch(`${embedded.url}/metrics`);
		expect(res.headers.get("content-type")).not.toMatch(/text\/plain/);
		expect(await res.text()).not.toMatch(/orrery_http_request_duration_seconds/);
	});
});
