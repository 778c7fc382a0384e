// A CWL run's outputs come from its own jobs only: a restart (which shares its parent's workspace)
// and a job's retry must not collect or publish files an earlier run or attempt left behind.
import { mkdir, mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { api, freePort, isBuilt, orrery, removeFolder, type ServerProcess, startServer } from "./cwl-cli.js";

let home: string;
let dir: string;
let server: ServerProcess;
let client: NodeJS.ProcessEnv;

beforeAll(async () => {
	if (!isBuilt()) throw new Error("build Orrery first: npm run build");
	home = await mkdtemp(join(tmpdir(), "orrery-cwl-stale-"));
	dir = await mkdtemp(join(tmpdir(), "orrery-cwl-stale-files-"));
	const user = await orrery(["admin", "create-user", "--email", "stale@localhost", "--json"], { ORRERY_HOME: home });
	const token = (JSON.parse(user.stdout) as { token: string }).token;
	server = await startServer(home, await freePort());
	client = { ORRERY_HOME: join(dir, "client"), ORRERY_SERVER_URL: server.url, ORRERY_ACCESS_TOKEN: token };
}, 120_000);

afterAll(async () => {
	server?.child.kill("SIGTERM");
	await removeFolder(home);
	await removeFolder(dir);
});

/** A tool writing f1.txt … f<n>.txt, each naming n; its output takes every *.txt. */
const numbered = `cwlVersion: v1.2
class: CommandLineTool
baseCommand: [sh, -c, 'i=1; while [ $i -le $0 ]; do echo "n=$0 i=$i" > f$i.txt; i=$((i+1)); done']
inputs:
  n: {type: int, inputBinding: {position: 1}}
outputs:
  files: {type: "File[]", outputBinding: {glob: "*.txt"}}
`;

/** The run's output object, as the API gives it. */
async function outputsOf(name: string): Promise<{ files: Array<{ basename: string; location: string }> }> {
	const token = String(client.ORRERY_ACCESS_TOKEN);
	return (await api(server.url, token, "GET", `/api/workflows/${name}/outputs`)).outputs as {
		files: Array<{ basename: string; location: string }>;
	};
}

/** The names in the run's `outputs/` folder. */
async function publishedIn(name: string): Promise<string[]> {
	const r = await orrery(["ls", "-w", name, "--json", "outputs/**"], client);
	expect(r.code, r.stderr).toBe(0);
	return (JSON.parse(r.stdout) as { items: Array<{ name: string }> }).items.map((i) => i.name).sort();
}

describe.runIf(isBuilt())("CWL outputs of restarts and retries", () => {
	test("a restart with fewer outputs publishes only its own, not its parent's left in the shared workspace", async () => {
		const folder = join(dir, "numbered");
		await mkdir(folder);
		await writeFile(join(folder, "tool.cwl"), numbered);
		await writeFile(
			join(folder, "reana.yaml"),
			"inputs:\n  files: [tool.cwl]\n  parameters: {n: 3}\nworkflow: {type: cwl, file: tool.cwl}\n",
		);
		const first = await orrery(["run", folder, "-n", "numbered"], client);
		expect(first.code, first.stderr).toBe(0);
		expect((await outputsOf("numbered.1")).files.map((f) => f.basename)).toEqual(["f1.txt", "f2.txt", "f3.txt"]);

		const restart = await orrery(["restart", "-w", "numbered.1", "-p", "n=1", "--follow"], client);
		expect(restart.stdout, restart.stderr).toMatch(/numbered\.1\.1 finished/);
		const out = await outputsOf("numbered.1.1");
		expect(out.files.map((f) => [f.basename, f.location])).toEqual([["f1.txt", "outputs/f1.txt"]]);
		expect(await publishedIn("numbered.1.1")).toEqual(["outputs/f1.txt"]);
		const got = await orrery(["download", "-w", "numbered.1.1", "outputs/f1.txt", "-o", join(dir, "got")], client);
		expect(got.code, got.stderr).toBe(0);
		expect(await readFile(join(dir, "got/outputs/f1.txt"), "utf8")).toBe("n=1 i=1\n");
		const stale = await orrery(["download", "-w", "numbered.1.1", "outputs/f2.txt", "-o", join(dir, "got")], client);
		expect(stale.code).toBe(66);
	}, 120_000);

	test("a job retried after a temporaryFailCodes exit collects only what its last attempt wrote", async () => {
		const marker = join(dir, "attempted");
		await writeFile(
			join(dir, "flaky.cwl"),
			`cwlVersion: v1.2
class: CommandLineTool
baseCommand: [sh, -c, 'if [ -e ${marker} ]; then echo good > good.txt; else touch ${marker}; echo partial > partial.txt; exit 75; fi']
temporaryFailCodes: [75]
inputs: []
outputs:
  files: {type: "File[]", outputBinding: {glob: "*.txt"}}
`,
		);
		const r = await orrery(["run", join(dir, "flaky.cwl"), "-n", "flaky"], client);
		expect(r.code, r.stderr).toBe(0);
		expect(r.stderr).toMatch(/temporary, retrying \(attempt 2 of 3\)/);
		const out = await outputsOf("flaky.1");
		expect(out.files.map((f) => [f.basename, f.location])).toEqual([["good.txt", "outputs/good.txt"]]);
		expect(await publishedIn("flaky.1")).toEqual(["outputs/good.txt"]);
	}, 120_000);
});
