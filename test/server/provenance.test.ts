// The provenance of a run: the workflow files recorded when it starts, their difference between two
// runs, and the RO-Crate metadata document of GET /api/workflows/{w}/provenance.
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testDialects } from "../support/databases.js";
import { mainCwl, sayCwl } from "../support/provenance-documents.js";
import { startTestServer, type TestServer, waitForStatus } from "../support/test-server.js";

const sha256 = (text: string | Buffer) => createHash("sha256").update(text).digest("hex");

type Entity = Record<string, unknown> & { "@id": string; "@type": string | string[] };
type Crate = { "@context": unknown; "@graph": Entity[] };

describe.each(testDialects)("provenance of runs (%s)", (dialect) => {
	let t: TestServer;
	let alice: { id: string; token: string };
	let bob: { id: string; token: string };

	beforeAll(async () => {
		t = await startTestServer(dialect);
		alice = await t.user("alice@example.org");
		bob = await t.user("bob@example.org");
	});
	afterAll(async () => t?.close());

	const call = (method: string, path: string, body?: unknown, token = alice.token) =>
		t.call(method, path, { token, ...(typeof body === "string" ? { raw: body } : body ? { body } : {}) });
	const upload = async (w: string, files: Record<string, string>) => {
		for (const [name, text] of Object.entries(files))
			expect(
				(await call("POST", `/api/workflows/${w}/workspace?file_name=${encodeURIComponent(name)}`, text)).status,
			).toBe(200);
	};
	const create = async (name: string, spec: unknown, files: Record<string, string>) => {
		const res = await call("POST", `/api/workflows?workflow_name=${name}`, spec);
		expect(res.status).toBe(201);
		const w = ((await res.json()) as { workflow_name: string }).workflow_name;
		await upload(w, files);
		return w;
	};
	const finish = async (w: string) => {
		const s = (await waitForStatus(t, alice.token, w, 60_000)) as { status: string; message: string };
		expect(s, s.message).toMatchObject({ status: "finished" });
	};
	const recorded = async (w: string) => {
		const id = ((await (await call("GET", `/api/workflows/${w}/status`)).json()) as { id: string }).id;
		const row = await t.server.db.kysely
			.selectFrom("workflows")
			.select(["workflow_files", "workspace_path"])
			.where("id", "=", id)
			.executeTakeFirstOrThrow();
		return { files: JSON.parse(row.workflow_files ?? "null") as Record<string, string>, workspace: row.workspace_path };
	};
	const provenance = async (w: string) => {
		const res = await call("GET", `/api/workflows/${w}/provenance`);
		expect(res.status).toBe(200);
		const crate = (await res.json()) as Crate;
		const byId = new Map(crate["@graph"].map((e) => [e["@id"], e]));
		return { crate, get: (id: string) => byId.get(id) as Entity };
	};

	it("records the SHA-256 of a CWL run's document and of what it runs and includes; a restart records the edited one and diff shows it", async () => {
		const files = {
			"main.cwl": mainCwl,
			"tools/say.cwl": sayCwl("hello"),
			"tools/say.txt": "Says hello.",
			"data.txt": "x",
		};
		const w = await create(
			"cwlprov",
			{ inputs: { parameters: { msg: "world" } }, workflow: { type: "cwl", file: "main.cwl" } },
			files,
		);
		expect((await call("POST", `/api/workflows/${w}/start`, {})).status).toBe(200);
		await finish(w);
		const first = await recorded(w);
		// The documents the loader reads, not the other workspace files.
		expect(first.files).toEqual({
			"main.cwl": sha256(mainCwl),
			"tools/say.cwl": sha256(files["tools/say.cwl"]),
			"tools/say.txt": sha256("Says hello."),
		});

		await upload(w, { "tools/say.cwl": sayCwl("goodbye") });
		const restart = await call("POST", `/api/workflows/${w}/start`, { restart: true });
		expect(restart.status).toBe(200);
		await finish(`${w}.1`);
		expect((await recorded(`${w}.1`)).files["tools/say.cwl"]).toBe(sha256(sayCwl("goodbye")));
		const said = await call("GET", `/api/workflows/${w}.1/workspace/outputs/said.txt`);
		expect(await said.text()).toBe("goodbye world\n");

		const diff = (await (await call("GET", `/api/workflows/${w}/diff/${w}.1`)).json()) as {
			reana_specification: string;
		};
		expect(JSON.parse(diff.reana_specification).workflow_files).toEqual([
			`- tools/say.cwl sha256:${sha256(sayCwl("hello"))}`,
			`+ tools/say.cwl sha256:${sha256(sayCwl("goodbye"))}`,
		]);

		// The crate's main entity is the document, with the recorded hashes; the run's output object is its result.
		const { crate, get } = await provenance(`${w}.1`);
		const root = get("./");
		expect(root.mainEntity).toEqual({ "@id": "main.cwl" });
		expect(get("main.cwl")).toMatchObject({
			"@type": ["File", "SoftwareSourceCode", "ComputationalWorkflow"],
			sha256: sha256(mainCwl),
			programmingLanguage: { "@id": "https://w3id.org/workflowhub/workflow-ro-crate#cwl" },
		});
		expect(get("tools/say.cwl")).toMatchObject({ sha256: sha256(sayCwl("goodbye")) });
		const run = crate["@graph"].find(
			(e) => e["@type"] === "CreateAction" && (e.instrument as { "@id": string })["@id"] === "main.cwl",
		) as Entity;
		expect(run.result).toContainEqual({ "@id": "outputs/said.txt" });
		expect(get("outputs/said.txt").sha256).toBe(sha256("goodbye world\n"));
	}, 90_000);

	it("records the serial spec file a run was read from", async () => {
		const serialYaml = "steps:\n  - name: only\n    commands: ['echo done > done.txt']\n";
		const w = await create(
			"serialfile",
			{
				workflow: {
					type: "serial",
					file: "serial.yaml",
					specification: { steps: [{ name: "only", commands: ["echo done > done.txt"] }] },
				},
			},
			{ "serial.yaml": serialYaml },
		);
		expect((await call("POST", `/api/workflows/${w}/start`, {})).status).toBe(200);
		await finish(w);
		expect((await recorded(w)).files).toEqual({ "serial.yaml": sha256(serialYaml) });
	});

	it("exports a finished serial run as a Workflow Run Crate: jobs, parameters, files with their SHA-256", async () => {
		const spec = {
			inputs: { files: ["data/in.txt"], parameters: { n: "3" } },
			workflow: {
				type: "serial",
				specification: {
					steps: [
						{
							name: "make",
							environment: "docker.io/library/python:3.12",
							commands: ["mkdir -p results && seq ${n} > results/a.txt"],
						},
						{ name: "copy", commands: ["cp data/in.txt results/b.txt", "echo ok > out.txt"] },
					],
				},
			},
			outputs: { files: ["out.txt"], directories: ["results"] },
		};
		const w = await create("serialprov", spec, { "data/in.txt": "input data\n" });
		expect((await call("POST", `/api/workflows/${w}/start`, {})).status).toBe(200);
		await finish(w);
		// Changed after the end: the export says so.
		await upload(w, { "results/b.txt": "edited later\n" });

		const { crate, get } = await provenance(w);
		expect(crate["@context"]).toContain("https://w3id.org/ro/crate/1.1/context");
		const root = get("./");
		expect(root.conformsTo).toContainEqual({ "@id": "https://w3id.org/ro/wfrun/workflow/0.5" });
		expect(root.conformsTo).toContainEqual({ "@id": "https://w3id.org/ro/wfrun/process/0.5" });
		expect(get("https://w3id.org/ro/wfrun/workflow/0.5")).toMatchObject({ "@type": "CreativeWork", version: "0.5" });
		expect(get("ro-crate-metadata.json").about).toEqual({ "@id": "./" });
		expect(String(root.description)).toMatch(/at export time/);

		const { workspace } = await recorded(w);
		const onDisk = (p: string) => sha256(readFileSync(join(workspace, p)));
		expect(get("data/in.txt")).toMatchObject({ "@type": "File", sha256: sha256("input data\n"), contentSize: "11" });
		expect(get("out.txt").sha256).toBe(onDisk("out.txt"));
		expect(get("out.txt").sha256).toBe(sha256("ok\n"));
		expect(get("results/a.txt").sha256).toBe(sha256("1\n2\n3\n"));
		expect(get("results/")).toMatchObject({
			"@type": "Dataset",
			hasPart: [{ "@id": "results/a.txt" }, { "@id": "results/b.txt" }],
		});
		expect(get("results/b.txt").sha256).toBe(sha256("edited later\n"));
		expect(String(get("results/b.txt").description)).toMatch(/modified after the run ended/);
		expect(get("results/a.txt").description).toBeUndefined();

		const runId = (root.mentions as Array<{ "@id": string }>)[0]?.["@id"] as string;
		const run = get(runId);
		expect(run).toMatchObject({
			"@type": "CreateAction",
			actionStatus: { "@id": "http://schema.org/CompletedActionStatus" },
			agent: { "@id": "mailto:alice@example.org" },
			result: [{ "@id": "out.txt" }, { "@id": "results/" }],
		});
		expect(typeof run.startTime).toBe("string");
		expect(typeof run.endTime).toBe("string");
		expect(run.object).toEqual([{ "@id": "#param-n" }, { "@id": "data/in.txt" }]);
		expect(get("#param-n")).toMatchObject({ "@type": "PropertyValue", name: "n", value: "3" });
		expect(get("mailto:alice@example.org")).toMatchObject({ "@type": "Person", email: "alice@example.org" });
		const version = (
			JSON.parse(readFileSync(resolve(import.meta.dirname, "../../package.json"), "utf8")) as { version: string }
		).version;
		expect(get("#orrery")).toMatchObject({ "@type": "SoftwareApplication", softwareVersion: version });

		const jobs = (root.mentions as Array<{ "@id": string }>).slice(1).map((m) => get(m["@id"]));
		expect(jobs.map((j) => [j.name, j.description])).toEqual([
			["make", "mkdir -p results && seq 3 > results/a.txt"],
			["copy", "cp data/in.txt results/b.txt"],
			["copy", "echo ok > out.txt"],
		]);
		for (const j of jobs) {
			expect(j).toMatchObject({
				"@type": "CreateAction",
				actionStatus: { "@id": "http://schema.org/CompletedActionStatus" },
			});
			expect(typeof j.startTime).toBe("string");
			const exit = (j.additionalProperty as Array<{ "@id": string }>)
				.map((p) => get(p["@id"]))
				.find((p) => p.name === "exit code");
			expect(exit?.value).toBe(0);
		}
		// The test server has no container runtime: the image is named, and the job ran on the host.
		expect(String(jobs[0]?.disambiguatingDescription)).toMatch(
			/names the image docker\.io\/library\/python:3\.12, but the job ran on the host/,
		);
	}, 60_000);

	it("answers 404 with a one-line message for an unknown run, and refuses another user's run", async () => {
		const unknown = await call("GET", "/api/workflows/nosuchrun/provenance");
		expect(unknown.status).toBe(404);
		const body = (await unknown.json()) as { message: string; code: string };
		expect(body.code).toBe("not_found");
		expect(body.message).toMatch(/^workflow 'nosuchrun' not found/);
		expect(body.message).not.toMatch(/\n/);

		const w = await create(
			"private",
			{ workflow: { type: "serial", specification: { steps: [{ commands: ["true"] }] } } },
			{},
		);
		const id = ((await (await call("GET", `/api/workflows/${w}/status`)).json()) as { id: string }).id;
		expect((await call("GET", `/api/workflows/${id}/provenance`, undefined, bob.token)).status).toBe(403);
		expect((await call("GET", `/api/workflows/${w}/provenance`, undefined, bob.token)).status).toBe(404);
		expect((await t.call("GET", `/api/workflows/${id}/provenance`)).status).toBe(401);
		const openapi = (await (await t.call("GET", "/api/openapi.json")).json()) as { paths: Record<string, unknown> };
		expect(openapi.paths).toHaveProperty(["/api/workflows/{workflow_id_or_name}/provenance"]);
	});

	it("never follows a link that leads out of the workspace: such a file is listed, not read", async () => {
		const secret = readFileSync("/etc/hostname");
		const w = await create(
			"links",
			{
				workflow: {
					type: "serial",
					specification: {
						steps: [
							{
								commands: [
									"ln -s /etc/hostname leak.txt",
									"mkdir -p out && ln -s /etc/hostname out/leak && echo ok > out/fine.txt",
								],
							},
						],
					},
				},
				outputs: { files: ["leak.txt"], directories: ["out"] },
			},
			{},
		);
		expect((await call("POST", `/api/workflows/${w}/start`, {})).status).toBe(200);
		await finish(w);
		const { crate, get } = await provenance(w);
		expect(get("leak.txt").sha256).toBeUndefined();
		expect(get("leak.txt").contentSize).toBeUndefined();
		expect(String(get("leak.txt").description)).toMatch(/outside the workspace.*not followed/);
		expect(get("out/leak").sha256).toBeUndefined();
		expect(String(get("out/leak").description)).toMatch(/symbolic link: not followed/);
		expect(get("out/fine.txt").sha256).toBe(sha256("ok\n"));
		expect(JSON.stringify(crate)).not.toContain(sha256(secret));
	});

	it("lists at most 10,000 files and counts the rest", async () => {
		const w = await create(
			"many",
			{
				workflow: {
					type: "serial",
					specification: { steps: [{ commands: ["mkdir many && cd many && seq 10005 | xargs touch"] }] },
				},
				outputs: { directories: ["many"] },
			},
			{},
		);
		expect((await call("POST", `/api/workflows/${w}/start`, {})).status).toBe(200);
		await finish(w);
		const { crate, get } = await provenance(w);
		// The main entity (here reana.yaml: the steps are inline) counts as one of the 10,000.
		expect(crate["@graph"].filter((e) => [e["@type"]].flat().includes("File"))).toHaveLength(10_000);
		expect((get("many/").hasPart as unknown[]).length).toBe(9_999);
		expect(String(get("./").description)).toMatch(/ 6 more files \(0 bytes\) are counted but not listed/);
		expect(String(get("many/").description)).toMatch(/^6 of its 10005 files are not listed/);
	}, 60_000);
});
