// Bad CWL input through `orrery cwl-runner` (embedded server): every error names the document, the
// line and the field, and the exit code tells invalid (65), unsupported (33) and failed (1) apart.
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { cwlRunner, embeddedEnv, folderWith, isBuilt, orrery, removeFolder } from "./cwl-cli.js";

const echo = `cwlVersion: v1.2
class: CommandLineTool
baseCommand: echo
inputs:
  msg: {type: string, inputBinding: {position: 1}}
outputs:
  out: stdout
stdout: out.txt
`;

let dir: string;
let home: string;
const env = () => embeddedEnv(home, { ORRERY_CWL_EXPRESSION_TIMEOUT_MS: "1000" });
const run = (...args: string[]) => cwlRunner(dir, env(), ...args);

beforeAll(async () => {
	if (!isBuilt()) throw new Error("build Orrery first: npm run build");
	home = await mkdtemp(join(tmpdir(), "orrery-cwl-home-"));
	dir = await folderWith({
		"echo.cwl": echo,
		"job.yml": "msg: hello\n",
		"empty.yml": "{}\n",
		"typo.cwl": echo.replace("baseCommand: echo", "baseComand: echo"),
		"magic.cwl": `${echo}requirements:\n  MagicRequirement: {}\n`,
		"magic-hint.cwl": `${echo}hints:\n  MagicRequirement: {}\n`,
		"broken-expr.cwl": echo.replace("stdout: out.txt", "stdout: $(inputs.msg.missing.deeper)"),
		"endless.cwl": `${echo.replace("stdout: out.txt", 'stdout: "${ while (true) {} }"')}requirements:\n  InlineJavascriptRequirement: {}\n`,
		"cycle.cwl": `cwlVersion: v1.2
class: Workflow
inputs: {}
outputs: []
steps:
  first: {run: echo.cwl, in: {msg: second/out}, out: [out]}
  second: {run: echo.cwl, in: {msg: first/out}, out: [out]}
`,
	});
}, 60_000);

afterAll(async () => {
	await removeFolder(dir);
	await removeFolder(home);
});

describe.runIf(isBuilt())("bad CWL input", () => {
	test("runs a valid tool and prints its output object (the baseline)", async () => {
		const r = await run("echo.cwl", "job.yml");
		expect(r.stderr).toBe("");
		expect(r.code).toBe(0);
		expect(JSON.parse(r.stdout).out).toMatchObject({ class: "File", basename: "out.txt", size: 6 });
	});

	test("an unknown field is refused with document, line, field and a suggestion", async () => {
		const r = await run("typo.cwl", "job.yml");
		expect(r.code).toBe(65);
		expect(r.stderr).toContain(
			"typo.cwl:3:1: unknown field 'baseComand' in a CommandLineTool (hint: did you mean 'baseCommand'?)",
		);
	});

	test("an unknown requirement is unsupported (exit 33); the same class under hints is ignored", async () => {
		const r = await run("magic.cwl", "job.yml");
		expect(r.code).toBe(33);
		expect(r.stderr).toMatch(/magic\.cwl:\d+:\d+: unsupported requirement 'MagicRequirement'/);
		expect((await run("magic-hint.cwl", "job.yml")).code).toBe(0);
	});

	test("a missing required input refuses the start and names the input", async () => {
		const r = await run("echo.cwl", "empty.yml");
		expect(r.code).toBe(65);
		expect(r.stderr).toMatch(/error: echo\.cwl:5(:1)?: input 'msg': the required input 'msg' is missing/);
		// The document is named by the user's path, not by its place in the workspace.
		expect(r.stderr).not.toContain("inputs/echo.cwl");
	});

	test("an expression error fails the run and names document, field and expression", async () => {
		const r = await run("broken-expr.cwl", "job.yml");
		expect(r.code).toBe(1);
		expect(r.stderr).toMatch(
			/failed: broken-expr\.cwl:8: stdout: the expression \$\(inputs\.msg\.missing\.deeper\) failed: inputs\.msg has no field 'missing'/,
		);
	});

	test("an expression that never ends is stopped by the time limit", async () => {
		const started = Date.now();
		const r = await run("endless.cwl", "job.yml");
		expect(r.code).toBe(1);
		expect(r.stderr).toMatch(/endless\.cwl:\d+: stdout: the expression .* failed: it did not finish within 1 s/);
		expect(Date.now() - started).toBeLessThan(60_000);
	});

	test("orrery validate and cwl-runner --validate check a document without running it", async () => {
		const ok = await orrery(["validate", "echo.cwl"], env(), dir);
		expect(ok.code).toBe(0);
		expect(ok.stdout).toContain("echo.cwl is a valid CWL v1.2 CommandLineTool");
		const json = await orrery(["validate", "--json", "echo.cwl"], env(), dir);
		expect(JSON.parse(json.stdout)).toMatchObject({ valid: true, class: "CommandLineTool", cwlVersion: "v1.2" });
		const typo = await orrery(["validate", "typo.cwl"], env(), dir);
		expect(typo.code).toBe(65);
		expect(typo.stderr).toContain("typo.cwl:3:1: unknown field 'baseComand'");
		const cycle = await orrery(["cwl-runner", "--validate", "cycle.cwl"], env(), dir);
		expect(cycle.code).toBe(65);
		expect(cycle.stderr).toMatch(/cycle\.cwl:\d+:\d+: the steps form a cycle/);
		const runner = await orrery(["cwl-runner", "--validate", "echo.cwl"], env(), dir);
		expect(runner.code).toBe(0);
		expect(runner.stdout).toContain("echo.cwl is a valid CWL v1.2 CommandLineTool");
	});

	test("a cyclic workflow is refused before anything runs", async () => {
		const r = await run("cycle.cwl", "empty.yml");
		expect(r.code).toBe(65);
		expect(r.stderr).toMatch(/cycle\.cwl:\d+:\d+: the steps form a cycle: first → second → first/);
	});
});
