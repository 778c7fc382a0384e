// CACHE=on for CWL: a tool invocation whose command and input files are those of an earlier one of the
// same user takes that one's folder instead of running: in a new run, and in a restart (which runs in
// the same workspace, with job folders of its own). Each tool appends a line to a marker file outside
// the workspace, so the markers count the invocations that really ran.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testDialects } from "../support/databases.js";
import { startTestServer, type TestServer, waitForStatus } from "../support/test-server.js";

const mainCwl = `cwlVersion: v1.2
class: Workflow
requirements: {ScatterFeatureRequirement: {}}
inputs:
  ns: int[]
outputs:
  total: {type: File, outputSource: merge/out}
steps:
  square:
    run: square.cwl
    scatter: n
    in: {n: ns}
    out: [out]
  merge:
    run: merge.cwl
    in: {parts: square/out}
    out: [out]
`;

describe.each(testDialects)("CWL jobs reused with CACHE=on (%s)", (dialect) => {
	let t: TestServer;
	let token: string;
	let marks: string;
	let runs = 0;

	beforeAll(async () => {
		t = await startTestServer(dialect);
		token = (await t.user("cwl-cache@example.org")).token;
		marks = mkdtempSync(join(tmpdir(), "orrery-cwl-cache-"));
	});
	afterAll(async () => {
		await t?.close();
		rmSync(marks, { recursive: true, force: true });
	});

	const tools = (mark: string) => ({
		"square.cwl": `cwlVersion: v1.2
class: CommandLineTool
baseCommand: [sh, -c, 'echo "$0" >> ${marks}/${mark}-square; if [ -e ${marks}/${mark}-fail-$0 ]; then exit 3; fi; echo $(($0 * $0)) > sq.txt']
inputs: {n: {type: int, inputBinding: {position: 1}}}
outputs: {out: {type: File, outputBinding: {glob: sq.txt}}}
`,
		"merge.cwl": `cwlVersion: v1.2
class: CommandLineTool
baseCommand: [sh, -c, 'echo merge >> ${marks}/${mark}-merge; cat "$@" > total.txt', merge]
inputs: {parts: {type: 'File[]', inputBinding: {position: 1}}}
outputs: {out: {type: File, outputBinding: {glob: total.txt}}}
`,
	});
	const ran = (name: string) =>
		existsSync(join(marks, name)) ? readFileSync(join(marks, name), "utf8").split("\n").filter(Boolean).sort() : [];

	async function ended(name: string) {
		const status = (await waitForStatus(t, token, name, 60_000)) as { status: string };
		const [base, runNumber, minor] = name.split(".");
		const wf = await t.server.db.kysely
			.selectFrom("workflows")
			.selectAll()
			.where("name", "=", base as string)
			.where("run_number", "=", Number(runNumber))
			.where("run_minor", "=", Number(minor ?? 0))
			.executeTakeFirstOrThrow();
		const jobs = await t.server.db.kysely
			.selectFrom("jobs")
			.selectAll()
			.where("workflow_id", "=", wf.id)
			.orderBy("seq")
			.execute();
		// The output object names files relative to the workspace (published under outputs/).
		const outputs = wf.outputs ? (JSON.parse(wf.outputs) as { total?: { location: string } }) : {};
		const total = outputs.total ? readFileSync(join(wf.workspace_path, outputs.total.location), "utf8") : undefined;
		return { status: status.status, jobs, total, workspace: wf.workspace_path };
	}

	/** Creates a run of the workflow with its documents, starts it and waits for it to end. */
	async function run(mark: string, ns: number[], options: Record<string, string> = { CACHE: "on" }) {
		runs += 1;
		const name = `cwlcache${runs}`;
		const spec = {
			inputs: { files: ["main.cwl", "square.cwl", "merge.cwl"], parameters: { ns } },
			workflow: { type: "cwl", file: "main.cwl" },
		};
		expect((await t.call("POST", `/api/workflows?workflow_name=${name}`, { token, body: spec })).ok).toBe(true);
		for (const [file, text] of Object.entries({ "main.cwl": mainCwl, ...tools(mark) }))
			await t.call("POST", `/api/workflows/${name}/workspace?file_name=${file}`, { token, raw: text });
		const res = await t.call("POST", `/api/workflows/${name}/start`, { token, body: { operational_options: options } });
		expect(res.status, await res.clone().text()).toBe(200);
		return { name: `${name}.1`, ...(await ended(`${name}.1`)) };
	}

	async function restart(name: string, ns: number[]) {
		const res = await t.call("POST", `/api/workflows/${name}/start`, {
			token,
			body: { restart: true, input_parameters: { ns }, operational_options: { CACHE: "on" } },
		});
		expect(res.status, await res.clone().text()).toBe(200);
		const minor = ((await res.json()) as { run_number: string }).run_number;
		return ended(`${name.split(".")[0]}.${minor}`);
	}

	it("reuses every invocation in a new run of the same inputs, and only the unchanged ones in a restart", async () => {
		const first = await run("a", [1, 2, 3]);
		expect(first.status).toBe("finished");
		expect(first.total).toBe("1\n4\n9\n");
		expect([ran("a-square"), ran("a-merge")]).toEqual([["1", "2", "3"], ["merge"]]);

		const second = await run("a", [1, 2, 3]);
		expect(second.status).toBe("finished");
		expect([ran("a-square"), ran("a-merge")]).toEqual([["1", "2", "3"], ["merge"]]);
		expect(second.jobs.every((j) => j.cached_from !== null)).toBe(true);
		// The outputs are this run's own files, with the earlier run's content.
		expect(second.total).toBe("1\n4\n9\n");
		expect(second.workspace).not.toBe(first.workspace);
		const logs = (await (await t.call("GET", `/api/workflows/${second.name}/logs`, { token })).json()) as {
			logs: string;
		};
		expect((JSON.parse(logs.logs) as { workflow_logs: string }).workflow_logs).toMatch(
			/square: not run, the results of cwlcache1\.1 reused \(same command, image and input files; 1 file copied\)/,
		);

		// A restart in the second run's workspace with one chunk changed: two chunks reused, the new one and the merge run.
		const third = await restart(second.name, [1, 2, 5]);
		expect(third.status).toBe("finished");
		expect(third.total).toBe("1\n4\n25\n");
		expect([ran("a-square"), ran("a-merge")]).toEqual([
			["1", "2", "3", "5"],
			["merge", "merge"],
		]);
		expect(
			third.jobs
				.filter((j) => j.cached_from !== null)
				.map((j) => j.key)
				.sort(),
		).toEqual(["square.0", "square.1"]);
	}, 120_000);

	it("resumes a failed scatter: the restart runs only the chunk that failed and what follows it", async () => {
		writeFileSync(join(marks, "b-fail-2"), "");
		const failed = await run("b", [1, 2, 3]);
		expect(failed.status).toBe("failed");
		expect(ran("b-square")).toEqual(["1", "2", "3"]);
		rmSync(join(marks, "b-fail-2"));
		const resumed = await restart(failed.name, [1, 2, 3]);
		expect(resumed.status).toBe("finished");
		expect(resumed.total).toBe("1\n4\n9\n");
		expect([ran("b-square"), ran("b-merge")]).toEqual([["1", "2", "2", "3"], ["merge"]]);
	}, 120_000);

	it("runs a tool again when the content of an input file changed, not when only its run did", async () => {
		const countCwl = `cwlVersion: v1.2
class: CommandLineTool
baseCommand: [sh, -c, 'echo counted >> ${marks}/d-count; wc -c < "$0" > size.txt']
inputs: {data: {type: File, inputBinding: {position: 1}}}
outputs: {size: {type: File, outputBinding: {glob: size.txt}}}
`;
		const counted = async (text: string) => {
			runs += 1;
			const name = `cwlfile${runs}`;
			const spec = {
				inputs: { files: ["count.cwl", "data/x.txt"], parameters: { data: { class: "File", path: "data/x.txt" } } },
				workflow: { type: "cwl", file: "count.cwl" },
			};
			await t.call("POST", `/api/workflows?workflow_name=${name}`, { token, body: spec });
			await t.call("POST", `/api/workflows/${name}/workspace?file_name=count.cwl`, { token, raw: countCwl });
			await t.call("POST", `/api/workflows/${name}/workspace?file_name=data/x.txt`, { token, raw: text });
			const res = await t.call("POST", `/api/workflows/${name}/start`, {
				token,
				body: { operational_options: { CACHE: "on" } },
			});
			expect(res.status, await res.clone().text()).toBe(200);
			const done = await ended(`${name}.1`);
			expect(done.status).toBe("finished");
			const outputs = (await t.server.db.kysely
				.selectFrom("workflows")
				.select("outputs")
				.where("name", "=", name)
				.executeTakeFirstOrThrow()) as { outputs: string };
			const size = (JSON.parse(outputs.outputs) as { size: { location: string } }).size;
			return readFileSync(join(done.workspace, size.location), "utf8").trim();
		};
		expect(await counted("abc")).toBe("3");
		expect(await counted("abc")).toBe("3");
		expect(ran("d-count")).toHaveLength(1);
		expect(await counted("abcdef")).toBe("6");
		expect(ran("d-count")).toHaveLength(2);
	}, 120_000);

	it("runs every invocation without CACHE=on, and refuses an unknown CACHE value", async () => {
		await run("c", [1, 2], {});
		await run("c", [1, 2], { CACHE: "off" });
		expect(ran("c-square")).toEqual(["1", "1", "2", "2"]);
		await t.call("POST", "/api/workflows?workflow_name=cwlbad", {
			token,
			body: { inputs: { files: ["main.cwl"] }, workflow: { type: "cwl", file: "main.cwl" } },
		});
		const res = await t.call("POST", "/api/workflows/cwlbad/start", {
			token,
			body: { operational_options: { CACHE: "maybe" } },
		});
		expect(res.status).toBe(400);
		expect(((await res.json()) as { message: string }).message).toMatch(/CACHE=maybe is neither on nor off/);
	}, 120_000);
});
