// The server makes each job's folders (its CWL output and temporary folders, its job folder under
// .orrery) before the job runs. An earlier job of the run can leave a symbolic link where a later
// one's folder goes: the server must not make folders, write files or run the job through it.
import { createHash } from "node:crypto";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startTestServer, type TestServer, waitForStatus } from "../support/test-server.js";

/**
 * A shell command that goes to the workspace (the folder with Orrery's own .orrery in it), leaving in
 * $r the folder of the run's CWL jobs (cwl-work/<run id>/, two up from the step's output folder);
 * backquotes, as $(…) is CWL's.
 */
const toWorkspace =
	'r=`dirname "$PWD"`; r=`dirname "$r"`; d="$PWD"; while [ ! -d "$d/.orrery" ]; do d=`dirname "$d"`; done; cd "$d"';

/** Step s1 runs `plant` in the workspace; step s2, which takes s1's output, leaves a file where it runs. */
const chain = (plant: string) => ({
	cwlVersion: "v1.2",
	class: "Workflow",
	requirements: [{ class: "ShellCommandRequirement" }],
	inputs: [],
	outputs: [],
	steps: [
		{
			id: "s1",
			run: {
				class: "CommandLineTool",
				inputs: [],
				arguments: [{ valueFrom: `echo done > flag && (${toWorkspace} && ${plant})`, shellQuote: false }],
				outputs: [{ id: "f", type: "File", outputBinding: { glob: "flag" } }],
			},
			in: [],
			out: ["f"],
		},
		{
			id: "s2",
			run: {
				class: "CommandLineTool",
				inputs: [{ id: "f", type: "File" }],
				arguments: [{ valueFrom: "echo ran > ran-here.txt", shellQuote: false }],
				outputs: [],
			},
			in: [{ id: "f", source: "s1/f" }],
			out: [],
		},
	],
});

describe("a CWL job that plants a link where a later job's folder goes", () => {
	let t: TestServer;
	let token: string;
	let victim: string;

	beforeAll(async () => {
		t = await startTestServer("sqlite");
		token = (await t.user("folders@example.org")).token;
	}, 60_000);
	afterAll(async () => {
		await t?.close();
	});
	beforeEach(() => {
		victim = mkdtempSync(join(tmpdir(), "orrery-victim-"));
		return () => rmSync(victim, { recursive: true, force: true });
	});

	async function run(name: string, plant: string): Promise<{ status: string; message: string; id: string }> {
		const created = await t.call("POST", `/api/workflows?workflow_name=${name}`, {
			token,
			body: { workflow: { type: "cwl", specification: chain(plant) } },
		});
		expect(created.status, await created.clone().text()).toBe(201);
		const id = ((await created.clone().json()) as { workflow_id: string }).workflow_id;
		const started = await t.call("POST", `/api/workflows/${name}/start`, { token, body: {} });
		expect(started.status, await started.clone().text()).toBe(200);
		return { ...((await waitForStatus(t, token, name, 60_000)) as { status: string; message: string }), id };
	}

	it("fails the step, naming the folder, when its CWL folder is a link leading out of the workspace", async () => {
		// A step's CWL folder is cwl-work/<run id>/<step>-<first 8 hex digits of the SHA-1 of the step's key>.
		const name = `s2-${createHash("sha1").update("s2").digest("hex").slice(0, 8)}`;
		const status = await run("cwl-folder-link", `ln -s ${victim} "$r"/${name}`);
		const folder = `cwl-work/${status.id}/${name}`;
		expect(status.status).toBe("failed");
		expect(status.message).toContain(`'${folder}' leads outside the workspace through a symbolic link`);
		expect(status.message).not.toContain("\n");
		expect(status.message).not.toContain(victim);
		expect(readdirSync(victim)).toEqual([]);
	}, 60_000);

	it("fails the step when its job folder under .orrery is a link leading out of the workspace", async () => {
		const plant = `for r in .orrery/jobs/*/; do ln -s ${victim} "$r"00002-s2-1; done`;
		const status = await run("job-folder-link", plant);
		expect(status.status).toBe("failed");
		expect(status.message).toMatch(/'\.orrery\/jobs\/[^']+\/00002-s2-1' leads outside the workspace/);
		expect(status.message).not.toContain(victim);
		expect(readdirSync(victim)).toEqual([]);
	}, 60_000);
});
