import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testDialects } from "../support/databases.js";
import { checkAgainstReana } from "../support/reana-openapi.js";
import { startTestServer, type TestServer, waitForStatus } from "../support/test-server.js";

// reana-client cannot be installed on the CI machine, so these tests assert what its code parses:
// each names the function of reana-client (0.9.6 and 0.95) whose expectation it checks.

/** reana_client/utils.py get_workflow_duration (0.9.6): `datetime.strptime(value, "%Y-%m-%dT%H:%M:%S")`. */
const strptimeForm = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$/;

/** The keys reana-client's output_user_friendly_logs has titles for, plus the two it reads first. */
const reanaJobLogKeys = [
	"workflow_uuid",
	"job_name",
	"compute_backend",
	"backend_job_id",
	"docker_img",
	"cmd",
	"status",
	"logs",
	"started_at",
	"finished_at",
].sort();

const spec = {
	version: "0.9.0",
	inputs: { files: ["data/in.txt"], parameters: { word: "hello" } },
	workflow: {
		type: "serial",
		specification: {
			steps: [
				{
					name: "write",
					commands: ["mkdir -p results/sub", "echo ${word} > results/out.txt", "echo sub > results/sub/out.txt"],
				},
			],
		},
	},
	outputs: { files: ["results/out.txt"] },
};

describe.each(testDialects)("what reana-client's code parses in Orrery's answers (%s)", (dialect) => {
	let t: TestServer;
	let token: string;
	const violations: string[] = [];

	/** Calls like reana-client (access_token query) and checks JSON answers against REANA's document. */
	async function call(method: string, path: string, options: { body?: unknown; raw?: string } = {}) {
		const res = await t.call(method, path, { token, ...options });
		const type = res.headers.get("content-type") ?? "";
		const body: unknown = type.includes("application/json") ? await res.json() : await res.arrayBuffer();
		if (type.includes("application/json")) violations.push(...checkAgainstReana(method, path, res.status, body));
		return { status: res.status, body: body as Record<string, unknown>, headers: res.headers };
	}

	/** A run created with an input file, started, and waited for. */
	async function finishedRun(name: string): Promise<void> {
		await call("POST", `/api/workflows?workflow_name=${name}`, { body: spec });
		await call("POST", `/api/workflows/${name}.1/workspace?file_name=data/in.txt`, { raw: "payload\n" });
		await call("POST", `/api/workflows/${name}.1/start`, { body: { input_parameters: { word: "world" } } });
		await waitForStatus(t, token, `${name}.1`);
	}

	beforeAll(async () => {
		t = await startTestServer(dialect);
		token = (await t.user("parsing@example.org")).token;
		await finishedRun("MyAnalysis");
	});
	afterAll(async () => t?.close());

	it("sends created and progress timestamps as UTC %Y-%m-%dT%H:%M:%S (reana-client get_workflow_duration)", async () => {
		const before = Date.now();
		const list = await call("GET", "/api/workflows?type=batch&include_progress=true");
		const [row] = list.body.items as Array<{ created: string; progress: Record<string, string | null> }>;
		expect(row?.created).toMatch(strptimeForm);
		expect(row?.progress.run_started_at).toMatch(strptimeForm);
		expect(row?.progress.run_finished_at).toMatch(strptimeForm);
		// 0.95 subtracts a naive utcnow(): the values are UTC.
		const started = Date.parse(`${row?.progress.run_started_at}Z`);
		expect(Math.abs(before - started)).toBeLessThan(120_000);
		const status = await call("GET", "/api/workflows/MyAnalysis.1/status");
		expect(status.body.created).toMatch(strptimeForm);
		expect((status.body.progress as Record<string, string>).run_finished_at).toMatch(strptimeForm);
		const ls = await call("GET", "/api/workflows/MyAnalysis.1/workspace");
		for (const f of ls.body.items as Array<Record<string, string>>) expect(f["last-modified"]).toMatch(strptimeForm);
	});

	it("sends job_logs entries with exactly REANA's keys, Orrery's extras beside them (reana-client output_user_friendly_logs)", async () => {
		const logs = await call("GET", "/api/workflows/MyAnalysis.1/logs");
		const doc = JSON.parse(logs.body.logs as string) as {
			job_logs: Record<string, Record<string, unknown>>;
			job_details: Record<string, Record<string, unknown>>;
		};
		const entries = Object.entries(doc.job_logs);
		expect(entries).toHaveLength(3); // one job per command, as in REANA
		for (const [id, entry] of entries) {
			expect(Object.keys(entry).sort()).toEqual(reanaJobLogKeys);
			expect(entry.started_at).toMatch(strptimeForm);
			expect(entry.finished_at).toMatch(strptimeForm);
			expect(doc.job_details[id]).toEqual({
				attempt: 1,
				image_used: null,
				exit_code: 0,
				message: expect.any(String),
				cached_from: null,
			});
		}
	});

	it("answers a start and a restart with the base name and run_number, which reana-client's restart joins", async () => {
		const restarted = await call("POST", "/api/workflows/MyAnalysis.1/start", {
			body: { restart: true, input_parameters: { word: "again" } },
		});
		expect(restarted.status).toBe(200);
		expect(restarted.body).toMatchObject({ workflow_name: "MyAnalysis", run_number: "1.1", status: "queued" });
		// reana_client/cli/workflow.py workflow_restart: response["workflow_name"] + "." + str(response["run_number"]).
		const joined = `${restarted.body.workflow_name}.${String(restarted.body.run_number)}`;
		expect((await waitForStatus(t, token, joined)).status).toBe("finished");
		await call("POST", "/api/workflows?workflow_name=plain", { body: spec });
		await call("POST", "/api/workflows/plain.1/workspace?file_name=data/in.txt", { raw: "x" });
		const started = await call("POST", "/api/workflows/plain.1/start", { body: {} });
		expect(started.body).toMatchObject({ workflow_name: "plain", run_number: 1 });
		await waitForStatus(t, token, "plain.1");
	});

	it("sends workspace_listing as a JSON-encoded string of diff lines (reana-client workflow_diff calls splitlines)", async () => {
		const same = await call("GET", "/api/workflows/MyAnalysis.1/diff/MyAnalysis.1.1");
		expect(JSON.parse(same.body.workspace_listing as string)).toBe("");
		const diff = await call("GET", "/api/workflows/MyAnalysis.1/diff/plain.1?context_lines=1");
		const decoded = JSON.parse(diff.body.workspace_listing as string) as unknown;
		expect(typeof decoded).toBe("string");
		const lines = (decoded as string).split("\n");
		expect(lines).toContain("-data/in.txt\t8");
		expect(lines).toContain("+data/in.txt\t1");
		expect(lines.some((l) => l.startsWith("@@"))).toBe(true);
		const brief = await call("GET", "/api/workflows/MyAnalysis.1/diff/plain.1?brief=true");
		expect(JSON.parse(brief.body.workspace_listing as string)).toBe("Files of MyAnalysis.1 and plain.1 differ\n");
	});

	it("names a download by its workspace path and a zip as REANA does (reana-client download_file)", async () => {
		const file = await call("GET", "/api/workflows/MyAnalysis.1/workspace/results/sub/out.txt");
		// Python's email.message get_filename, which reana-client uses, reads `filename` first.
		expect(file.headers.get("content-disposition")).toBe(
			`attachment; filename="results/sub/out.txt"; filename*=UTF-8''results%2Fsub%2Fout.txt`,
		);
		const one = await call("GET", "/api/workflows/MyAnalysis.1/workspace/results/*.txt");
		expect(one.headers.get("content-disposition")).toMatch(/^attachment; filename="results\/out\.txt";/);
		const glob = await call("GET", "/api/workflows/MyAnalysis.1/workspace/results/**/*.txt");
		expect(glob.headers.get("content-type")).toBe("application/zip");
		expect(glob.headers.get("content-disposition")).toMatch(
			/^attachment; filename="download_MyAnalysis\.1_\*\.txt_\d{4}-\d\d-\d\d-\d{6}\.zip"; filename\*=UTF-8''download_MyAnalysis\.1_%2A\.txt_\d{4}-\d\d-\d\d-\d{6}\.zip$/,
		);
		const folder = await call("GET", "/api/workflows/MyAnalysis.1/workspace/results");
		expect(folder.headers.get("content-disposition")).toMatch(/filename="download_MyAnalysis\.1_results_\d{4}-/);
	});

	it("decodes a JSON search as reana-client's --filter sends it, and keeps plain text (list, ls, du)", async () => {
		const names = async (query: string) =>
			((await call("GET", `/api/workflows?${query}`)).body.items as Array<{ name: string }>).map((i) => i.name);
		// REANA: name ilike %value% (reana-workflow-controller get_workflows).
		expect(await names(`search=${encodeURIComponent('{"name": ["myana"]}')}`)).toEqual([
			"MyAnalysis.1.1",
			"MyAnalysis.1",
		]);
		expect(await names(`search=${encodeURIComponent('{"name": ["lai"]}')}`)).toEqual(["plain.1"]);
		expect(await names("search=Analysis")).toEqual(["MyAnalysis.1.1", "MyAnalysis.1"]);
		expect((await call("GET", `/api/workflows?search=${encodeURIComponent('{"owner": ["x"]}')}`)).status).toBe(400);

		// ls: every value of every field, as text, ignoring case (list_files_filter).
		const ls = async (search: string) =>
			(
				(await call("GET", `/api/workflows/MyAnalysis.1/workspace?search=${encodeURIComponent(search)}`)).body
					.items as Array<{ name: string }>
			).map((i) => i.name);
		expect(await ls('{"name": ["OUT"]}')).toEqual(["results/out.txt", "results/sub/out.txt"]);
		expect(await ls('{"name": ["out"], "size": ["6"]}')).toEqual(["results/out.txt"]);
		expect(await ls("sub")).toEqual(["results/sub/out.txt"]);

		// du: names are paths, folders or globs; sizes exact (reana-commons get_disk_usage).
		const du = async (query: string) =>
			(await call("GET", `/api/workflows/MyAnalysis.1/disk_usage?${query}`)).body.disk_usage_info as Array<{
				name: string;
				size: { raw: number };
			}>;
		expect((await du(`search=${encodeURIComponent('{"name": ["results/sub"]}')}`)).map((d) => d.name)).toEqual([
			"/results/sub/out.txt",
		]);
		// A folder is kept by its total as a file by its size (`du -a` lists both).
		expect((await du(`search=${encodeURIComponent('{"size": ["4"]}')}`)).map((d) => d.name)).toEqual([
			"/results/sub/out.txt",
			"/results/sub",
		]);
		expect((await du(`search=${encodeURIComponent('{"name": ["*/in.txt", "results/out.txt"]}')}`)).length).toBe(2);
	});

	it("names du entries /path and the total '' (reana-client workflow_disk_usage prints '.' + name)", async () => {
		const all = await call("GET", "/api/workflows/MyAnalysis.1/disk_usage");
		// `du -a`: folders too, each after what it holds, and the workspace itself last.
		expect((all.body.disk_usage_info as Array<{ name: string }>).map((d) => d.name)).toEqual([
			"/data/in.txt",
			"/data",
			"/results/out.txt",
			"/results/sub/out.txt",
			"/results/sub",
			"/results",
			"",
		]);
		const total = await call("GET", "/api/workflows/MyAnalysis.1/disk_usage?summarize=true");
		expect(total.body.disk_usage_info).toEqual([{ name: "", size: { raw: 18, human_readable: "18 Bytes" } }]);
	});

	it("answers 200 with nothing deleted for a missing file (reana-client delete_file: 'did not match any existing file')", async () => {
		const missing = await call("DELETE", "/api/workflows/MyAnalysis.1/workspace/nope.txt");
		expect(missing.status).toBe(200);
		expect(missing.body).toEqual({ deleted: {}, failed: {} });
	});

	it("matched REANA's document in every answer", () => {
		expect(violations).toEqual([]);
	});
});
