// Each decision is taken as soon as what it depends on has happened, never at the idle timer: the
// server here sleeps 60 s when nothing wakes it, so a run that waited for the timer anywhere would
// take minutes instead of seconds.
import { afterAll, describe, expect, it } from "vitest";
import { testDialects } from "../support/databases.js";
import { startTestServer, type TestServer, waitForStatus } from "../support/test-server.js";

// Three CWL steps in a chain: each starts from the outputs the previous one's job left.
const chain = {
	cwlVersion: "v1.2",
	$graph: [
		{
			id: "#add",
			class: "CommandLineTool",
			requirements: [{ class: "ShellCommandRequirement" }],
			inputs: [{ id: "#add/n", type: "int" }],
			arguments: [{ valueFrom: "echo $((inputs.n + 1))", shellQuote: false }],
			stdout: "n.txt",
			outputs: [
				{
					id: "#add/next",
					type: "int",
					outputBinding: { glob: "n.txt", loadContents: true, outputEval: "$(parseInt(self[0].contents))" },
				},
			],
		},
		{
			id: "#main",
			class: "Workflow",
			requirements: [{ class: "InlineJavascriptRequirement" }],
			inputs: [{ id: "#main/n", type: "int" }],
			outputs: [{ id: "#main/out", type: "int", outputSource: "#main/c/next" }],
			steps: [
				{ id: "#main/a", run: "#add", in: [{ id: "#main/a/n", source: "#main/n" }], out: ["#main/a/next"] },
				{ id: "#main/b", run: "#add", in: [{ id: "#main/b/n", source: "#main/a/next" }], out: ["#main/b/next"] },
				{ id: "#main/c", run: "#add", in: [{ id: "#main/c/n", source: "#main/b/next" }], out: ["#main/c/next"] },
			],
		},
	],
};

describe.each(testDialects)("scheduler decisions (%s)", (dialect) => {
	const servers: TestServer[] = [];
	afterAll(async () => {
		for (const s of servers) await s.close();
	});

	it("starts each step and ends the run as soon as the previous job's outputs are collected", async () => {
		const t = await startTestServer(dialect, { schedulerIdleMs: 60_000 });
		servers.push(t);
		const { token } = await t.user("latency@example.org");
		const created = await t.call("POST", "/api/workflows?workflow_name=chain", {
			token,
			body: { inputs: { parameters: { n: 1 } }, workflow: { type: "cwl", file: "chain.cwl", specification: chain } },
		});
		expect(created.status, await created.clone().text()).toBe(201);
		const started = Date.now();
		await t.call("POST", "/api/workflows/chain/start", { token, body: {} });
		const status = (await waitForStatus(t, token, "chain", 30_000)) as { status: string; message?: string };
		expect(status.status, status.message).toBe("finished");
		expect(Date.now() - started).toBeLessThan(20_000);
		const out = (await (await t.call("GET", "/api/workflows/chain/outputs", { token })).json()) as {
			outputs: { out: number };
		};
		expect(out.outputs.out).toBe(4);
	});
});
