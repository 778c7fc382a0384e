// A restart shares its parent's workspace: two runs active in one workspace would write into each
// other's files (a result made with other parameters than its record says), so only one may run.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testDialects } from "../support/databases.js";
import { startTestServer, type TestServer, waitForStatus } from "../support/test-server.js";

describe.each(testDialects)("restarts of one workspace (%s)", (dialect) => {
	let t: TestServer;
	let token: string;

	beforeAll(async () => {
		t = await startTestServer(dialect);
		token = (await t.user("restarter@example.org")).token;
	});
	afterAll(async () => t?.close());

	const spec = {
		inputs: { parameters: { x: "A" } },
		workflow: {
			type: "serial",
			specification: { steps: [{ name: "s", commands: ["echo ${x} > tmp.txt; sleep 3; cp tmp.txt out.txt"] }] },
		},
	};

	it("lets one of two restarts at once start; the other is refused with 409 until the first ended", async () => {
		await t.call("POST", "/api/workflows?workflow_name=twice", { token, body: spec });
		await t.call("POST", "/api/workflows/twice/start", { token, body: {} });
		expect(((await waitForStatus(t, token, "twice")) as { status: string }).status).toBe("finished");
		const restart = (x: string) =>
			t.call("POST", "/api/workflows/twice.1/start", {
				token,
				body: { restart: true, input_parameters: { x } },
			});
		const answers = await Promise.all([restart("B"), restart("C")]);
		const statuses = answers.map((a) => a.status).sort();
		expect(statuses).toEqual([200, 409]);
		const refused = answers.find((a) => a.status === 409);
		const body = (await refused?.json()) as { message: string };
		expect(body.message).toMatch(
			/^workflow twice\.1\.1 is (starting|queued|pending|running) in the same workspace; wait until it ends/,
		);
		// A restart of the restart is refused too while it runs: it shares the workspace.
		const nested = await t.call("POST", "/api/workflows/twice.1/start", { token, body: { restart: true } });
		expect(nested.status).toBe(409);
		const first = (await waitForStatus(t, token, "twice.1.1")) as { status: string };
		expect(first.status).toBe("finished");
		expect((await restart("D")).status).toBe(200);
		expect(((await waitForStatus(t, token, "twice.1.2")) as { status: string }).status).toBe("finished");
		const out = await t.call("GET", "/api/workflows/twice.1.2/workspace/out.txt", { token });
		expect(await out.text()).toBe("D\n");
	}, 60_000);

	it("records, in a restart FROM a step, that the steps before it were not run again and with which parameters they ran", async () => {
		const twoSteps = {
			inputs: { parameters: { n: "1" } },
			workflow: {
				type: "serial",
				specification: {
					steps: [
						{ name: "make", commands: ["echo ${n} > made.txt"] },
						{ name: "use", commands: ["cp made.txt used.txt"] },
					],
				},
			},
		};
		await t.call("POST", "/api/workflows?workflow_name=from", { token, body: twoSteps });
		await t.call("POST", "/api/workflows/from/start", { token, body: { input_parameters: { n: "5" } } });
		expect(((await waitForStatus(t, token, "from")) as { status: string }).status).toBe("finished");
		const restarted = await t.call("POST", "/api/workflows/from.1/start", {
			token,
			body: { restart: true, operational_options: { FROM: "use" }, input_parameters: { n: "7" } },
		});
		expect(restarted.status).toBe(200);
		expect(((await waitForStatus(t, token, "from.1.1")) as { status: string }).status).toBe("finished");
		const eventsOf = async (name: string) => {
			const body = (await (await t.call("GET", `/api/workflows/${name}/logs`, { token })).json()) as { logs: string };
			return (JSON.parse(body.logs) as { events: Array<{ type: string; level: string; message: string }> }).events;
		};
		const reused = (await eventsOf("from.1.1")).find((e) => e.type === "steps_reused");
		expect(reused?.level).toBe("warning");
		expect(reused?.message).toBe(
			`the steps before 'use' are not run again: their files in the workspace come from from.1, run with the parameters {"n":"5"}`,
		);
		expect((await eventsOf("from.1")).some((e) => e.type === "steps_reused")).toBe(false);
	}, 60_000);
});
