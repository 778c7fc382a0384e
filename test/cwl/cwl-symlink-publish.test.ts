// Publishing a CWL run's outputs into the workspace's outputs/ happens in the server process, after
// the jobs, which could leave symbolic links anywhere in the workspace: the server must never
// write, replace or delete a file outside the workspace through one.
import { lstatSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startTestServer, type TestServer, waitForStatus } from "../support/test-server.js";

/** A shell command that goes to the workspace (the folder with Orrery's own .orrery in it). */
// Backquotes, not $(…): that is a CWL parameter reference.
const toWorkspace = 'd="$PWD"; while [ ! -d "$d/.orrery" ]; do d=`dirname "$d"`; done; cd "$d"';

/** A tool whose File output `out` is target.txt and whose File output `note` is given by its contents only. */
const tool = (plant: string) => ({
	cwlVersion: "v1.2",
	class: "CommandLineTool",
	requirements: [{ class: "ShellCommandRequirement" }, { class: "InlineJavascriptRequirement" }],
	inputs: [],
	arguments: [{ valueFrom: `echo FROM-THE-JOB > target.txt && (${toWorkspace} && ${plant})`, shellQuote: false }],
	outputs: [
		{ id: "out", type: "File", outputBinding: { glob: "target.txt" } },
		{
			id: "note",
			type: "File",
			outputBinding: { outputEval: '${return {class: "File", basename: "note.txt", contents: "NOTE-OF-THE-RUN"};}' },
		},
	],
});

describe("publishing CWL outputs into a workspace where a job left symbolic links", () => {
	let t: TestServer;
	let token: string;
	let victim: string;

	beforeAll(async () => {
		t = await startTestServer("sqlite");
		token = (await t.user("publish@example.org")).token;
	}, 60_000);
	afterAll(async () => {
		await t?.close();
	});
	beforeEach(() => {
		victim = mkdtempSync(join(tmpdir(), "orrery-victim-"));
		writeFileSync(join(victim, "target.txt"), "VICTIM\n");
		writeFileSync(join(victim, "note.txt"), "VICTIM NOTE\n");
		return () => rmSync(victim, { recursive: true, force: true });
	});

	async function run(name: string, plant: string): Promise<{ status: string; message: string }> {
		const created = await t.call("POST", `/api/workflows?workflow_name=${name}`, {
			token,
			body: { workflow: { type: "cwl", specification: tool(plant) } },
		});
		expect(created.status, await created.clone().text()).toBe(201);
		const started = await t.call("POST", `/api/workflows/${name}/start`, { token, body: {} });
		expect(started.status, await started.clone().text()).toBe(200);
		return (await waitForStatus(t, token, name, 60_000)) as { status: string; message: string };
	}

	function expectVictimUntouched(): void {
		expect(readdirSync(victim).sort()).toEqual(["note.txt", "target.txt"]);
		expect(readFileSync(join(victim, "target.txt"), "utf8")).toBe("VICTIM\n");
		expect(statSync(join(victim, "target.txt")).nlink).toBe(1);
		expect(readFileSync(join(victim, "note.txt"), "utf8")).toBe("VICTIM NOTE\n");
	}

	it("fails the run, naming the folder, when outputs/ is a link leading out of the workspace", async () => {
		const status = await run("outputs-link", `ln -s ${victim} outputs`);
		expect(status.status).toBe("failed");
		expect(status.message).toContain("'outputs' leads outside the workspace through a symbolic link");
		expect(status.message).not.toContain("\n");
		expect(status.message).not.toContain("../");
		expect(status.message).not.toContain(victim);
		expectVictimUntouched();
	}, 60_000);

	it("replaces links a job left in outputs/ instead of writing or linking through them", async () => {
		const plant = `mkdir -p outputs && ln -s ${join(victim, "target.txt")} outputs/target.txt && ln -s ${join(victim, "note.txt")} outputs/note.txt`;
		const status = await run("outputs-files", plant);
		expect(status.status, status.message).toBe("finished");
		expectVictimUntouched();
		const outputs = (await (await t.call("GET", "/api/workflows/outputs-files/outputs", { token })).json()) as {
			outputs: Record<string, { location: string }>;
		};
		expect(outputs.outputs.out?.location).toBe("outputs/target.txt");
		expect(outputs.outputs.note?.location).toBe("outputs/note.txt");
		for (const [file, text] of [
			["target.txt", "FROM-THE-JOB\n"],
			["note.txt", "NOTE-OF-THE-RUN"],
		]) {
			const res = await t.call("GET", `/api/workflows/outputs-files/workspace/outputs/${file}`, { token });
			expect(res.status).toBe(200);
			expect(await res.text()).toBe(text);
		}
		const ws = readdirSync(join(t.home), { recursive: true, withFileTypes: false }) as string[];
		const published = ws.filter((p) => p.endsWith("/outputs/target.txt") || p.endsWith("/outputs/note.txt"));
		expect(published.length).toBe(2);
		for (const p of published) expect(lstatSync(join(t.home, p)).isSymbolicLink()).toBe(false);
	}, 60_000);
});
