// CWL through the HTTP API of an `orrery server` process: a reana.yaml with `workflow.type: cwl`
// (REANA's `inputs.parameters.input` convention), and a scatter that survives a killed server.
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { api, freePort, isBuilt, orrery, removeFolder, type ServerProcess, startServer } from "./cwl-cli.js";

let home: string;
let port: number;
let server: ServerProcess;
let token: string;

beforeAll(async () => {
	if (!isBuilt()) throw new Error("build Orrery first: npm run build");
	home = await mkdtemp(join(tmpdir(), "orrery-cwl-server-"));
	const user = await orrery(["admin", "create-user", "--email", "cwl@localhost", "--json"], { ORRERY_HOME: home });
	token = (JSON.parse(user.stdout) as { token: string }).token;
	port = await freePort();
	server = await startServer(home, port);
}, 120_000);

afterAll(async () => {
	server?.child.kill("SIGTERM");
	await removeFolder(home);
});

async function settle(name: string, timeoutMs = 90_000): Promise<Record<string, unknown>> {
	const end = Date.now() + timeoutMs;
	for (;;) {
		const s = await api(server.url, token, "GET", `/api/workflows/${name}/status`);
		if (!["created", "queued", "pending", "running"].includes(String(s.status)) || Date.now() > end) return s;
		await new Promise((r) => setTimeout(r, 200));
	}
}

async function create(name: string, spec: unknown, files: Record<string, string>): Promise<string> {
	const created = await api(server.url, token, "POST", `/api/workflows?workflow_name=${name}`, spec);
	const w = String(created.workflow_name);
	for (const [path, text] of Object.entries(files)) {
		await api(server.url, token, "POST", `/api/workflows/${w}/workspace?file_name=${encodeURIComponent(path)}`, text);
	}
	await api(server.url, token, "POST", `/api/workflows/${w}/start`, {});
	return w;
}

const scatter = (command: string) => `cwlVersion: v1.2
class: Workflow
requirements: {ScatterFeatureRequirement: {}}
inputs: {n: "int[]"}
outputs:
  out: {type: "File[]", outputSource: each/out}
steps:
  each:
    scatter: i
    in: {i: n}
    out: [out]
    run:
      class: CommandLineTool
      requirements: {ShellCommandRequirement: {}}
      inputs: {i: int}
      arguments: [{valueFrom: "${command}", shellQuote: false}]
      stdout: out.txt
      outputs: {out: stdout}
`;

describe.runIf(isBuilt())("CWL workflows through the API", () => {
	test("runs a reana.yaml of type cwl whose input object is the file inputs.parameters.input names", async () => {
		const w = await create(
			"cwl-reana",
			{
				inputs: { files: ["data/words.txt"], parameters: { input: "inputs.yml" } },
				workflow: { type: "cwl", file: "wf/count.cwl" },
			},
			{
				"wf/count.cwl":
					"cwlVersion: v1.2\nclass: CommandLineTool\nbaseCommand: [wc, -l]\nstdin: $(inputs.f.path)\ninputs: {f: File}\nstdout: n.txt\noutputs:\n  n: stdout\n",
				"inputs.yml": "f: {class: File, location: data/words.txt}\n",
				"data/words.txt": "a\nb\nc\n",
			},
		);
		const status = await settle(w);
		expect(status.status, String(status.message)).toBe("finished");
		const out = await api(server.url, token, "GET", `/api/workflows/${w}/outputs`);
		const n = (out.outputs as { n: Record<string, unknown> }).n;
		expect(n).toMatchObject({
			class: "File",
			basename: "n.txt",
			size: 2,
			checksum: "sha1$a3db5c13ff90a36963278c6a39e4ee3c22e2a436",
		});
		// As REANA's CWL engine (cwltool --outdir outputs): the run's outputs are in the workspace's outputs/.
		expect(n.location).toBe("outputs/n.txt");
		expect(n.path).toBeUndefined();
		const listed = (await api(server.url, token, "GET", `/api/workflows/${w}/workspace`)).items as Array<{
			name: string;
		}>;
		expect(listed.map((i) => i.name)).toContain("outputs/n.txt");
	});

	test("runs a packed document sent inline as workflow.specification, with the parameters as input object", async () => {
		const packed = {
			cwlVersion: "v1.2",
			$graph: [
				{
					id: "#shout",
					class: "CommandLineTool",
					baseCommand: "echo",
					inputs: [{ id: "#shout/w", type: "string", inputBinding: {} }],
					outputs: [{ id: "#shout/o", type: "stdout" }],
				},
				{
					id: "#main",
					class: "Workflow",
					inputs: [{ id: "#main/word", type: "string" }],
					outputs: [{ id: "#main/out", type: "File", outputSource: "#main/s/o" }],
					steps: [
						{ id: "#main/s", run: "#shout", in: [{ id: "#main/s/w", source: "#main/word" }], out: ["#main/s/o"] },
					],
				},
			],
		};
		const w = await create(
			"cwl-inline",
			{ inputs: { parameters: { word: "hi" } }, workflow: { type: "cwl", file: "packed.cwl", specification: packed } },
			{},
		);
		const status = await settle(w);
		expect(status.status, String(status.message)).toBe("finished");
		const out = (await api(server.url, token, "GET", `/api/workflows/${w}/outputs`)).outputs as {
			out: { size: number };
		};
		expect(out.out.size).toBe(3);
	});

	test("parameters given at start as text (reana-client start -p) are converted by the input's type", async () => {
		const head =
			"cwlVersion: v1.2\nclass: CommandLineTool\nbaseCommand: head\ninputs:\n  lines: {type: int, inputBinding: {prefix: -n}}\n  f: {type: File, inputBinding: {}}\n  other: {type: File?}\nstdout: top.txt\noutputs:\n  top: stdout\n";
		const files = { "head.cwl": head, "data/words.txt": "a\nb\nc\n", "data/more.txt": "x\ny\nz\n" };
		// As reana-client sends a CWL workflow: inputs.parameters is the input object file's content.
		const spec = {
			inputs: { parameters: { lines: 2, f: { class: "File", location: "data/words.txt" } } },
			workflow: { type: "cwl", file: "head.cwl" },
		};
		const startWith = async (name: string, parameters: Record<string, string>) => {
			const created = await api(server.url, token, "POST", `/api/workflows?workflow_name=${name}`, spec);
			const w = String(created.workflow_name);
			for (const [path, text] of Object.entries(files))
				await api(
					server.url,
					token,
					"POST",
					`/api/workflows/${w}/workspace?file_name=${encodeURIComponent(path)}`,
					text,
				);
			return api(server.url, token, "POST", `/api/workflows/${w}/start`, { input_parameters: parameters }).then(
				() => w,
				(error: Error) => error.message,
			);
		};
		const w = await startWith("cwl-text-p", { lines: "1", f: "data/more.txt" });
		const status = await settle(w);
		expect(status.status, String(status.message)).toBe("finished");
		const out = (await api(server.url, token, "GET", `/api/workflows/${w}/outputs`)).outputs as {
			top: { size: number; checksum: string };
		};
		// `head -n 1 data/more.txt`: "x\n".
		expect(out.top).toMatchObject({ size: 2, checksum: "sha1$6fcf9dfbd479ed82697fee719b9f8c610a11ff2a" });
		expect(await startWith("cwl-text-bad", { lines: "one" })).toMatch(
			/400 .*parameter lines takes a whole number, not 'one'/,
		);
		expect(await startWith("cwl-text-unknown", { nope: "1" })).toMatch(
			/400 .*unknown input parameter nope; the workflow declares lines, f, other/,
		);
		// `other` is an input the input object does not give: it may be given at start too.
		expect(await startWith("cwl-text-outside", { other: "../../../etc/passwd" })).toMatch(
			/400 .*is outside the workflow's workspace/,
		);
	});

	test("reads the input object from workflow.parameters.file, REANA's newer spelling", async () => {
		const tool =
			"cwlVersion: v1.2\nclass: CommandLineTool\nbaseCommand: [wc, -l]\nstdin: $(inputs.f.path)\ninputs: {f: File}\nstdout: n.txt\noutputs:\n  n: stdout\n";
		const w = await create(
			"cwl-parameters-file",
			{ workflow: { type: "cwl", file: "wf/count.cwl", parameters: { file: "params/job.yml" } } },
			{
				"wf/count.cwl": tool,
				// Relative to the parameter file, as cwltool reads it.
				"params/job.yml": "f: {class: File, location: ../data/words.txt}\n",
				"data/words.txt": "a\nb\nc\n",
			},
		);
		const status = await settle(w);
		expect(status.status, String(status.message)).toBe("finished");
		const out = (await api(server.url, token, "GET", `/api/workflows/${w}/outputs`)).outputs as { n: { size: number } };
		expect(out.n.size).toBe(2);
		// reana-client sends the file's values as inputs.parameters too: without the file, they are the input object.
		const sent = await create(
			"cwl-parameters-sent",
			{
				inputs: { parameters: { f: { class: "File", location: "data/words.txt" } } },
				workflow: { type: "cwl", file: "wf/count.cwl", parameters: { file: "params/job.yml" } },
			},
			{ "wf/count.cwl": tool, "data/words.txt": "a\nb\n" },
		);
		const sentStatus = await settle(sent);
		expect(sentStatus.status, String(sentStatus.message)).toBe("finished");
		// A parameter file that is not in the workspace, and no parameters: the start is refused and says which file.
		const missing = await create(
			"cwl-parameters-missing",
			{ workflow: { type: "cwl", file: "wf/count.cwl", parameters: { file: "params/gone.yml" } } },
			{ "wf/count.cwl": tool },
		).catch((error: Error) => error.message);
		expect(missing).toMatch(/400 .*the parameter file params\/gone\.yml is not in the workspace/);
	});

	test("a scatter continues after the server is killed, without running finished jobs again", async () => {
		const w = await create(
			"cwl-restart",
			{ inputs: { parameters: { n: [1, 2, 3, 4, 5, 6] } }, workflow: { type: "cwl", file: "scatter.cwl" } },
			{ "scatter.cwl": scatter("sleep 1; echo $(inputs.i)") },
		);
		const end = Date.now() + 60_000;
		for (;;) {
			const jobs = (await api(server.url, token, "GET", `/api/workflows/${w}/jobs`)).items as Array<{ status: string }>;
			if (jobs.filter((j) => j.status === "finished").length >= 2 || Date.now() > end) break;
			await new Promise((r) => setTimeout(r, 100));
		}
		server.child.kill("SIGKILL");
		await new Promise((r) => server.child.once("exit", r));
		server = await startServer(home, port);
		const status = await settle(w);
		expect(status.status, String(status.message)).toBe("finished");
		const jobs = (await api(server.url, token, "GET", `/api/workflows/${w}/jobs`)).items as Array<
			Record<string, unknown>
		>;
		// One job per scatter item, each run once (a re-run would show as a second attempt or a new key).
		expect(jobs).toHaveLength(6);
		expect(new Set(jobs.map((j) => j.key)).size).toBe(6);
		expect(jobs.every((j) => j.attempt === 1 && j.status === "finished")).toBe(true);
		const out = (await api(server.url, token, "GET", `/api/workflows/${w}/outputs`)).outputs as {
			out: Array<{ size: number }>;
		};
		expect(out.out.map((f) => f.size)).toEqual([2, 2, 2, 2, 2, 2]);
	}, 120_000);
});
