// The process's inputs as cwltool-style options after the document (`orrery cwl-runner tool.cwl --name value`),
// through the embedded server with real processes.
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { cwlRunner, embeddedEnv, folderWith, isBuilt, orrery, removeFolder, repoRoot } from "./cwl-cli.js";

const cat = `cwlVersion: v1.2
class: CommandLineTool
baseCommand: [cat]
inputs:
  files: {type: "File[]", inputBinding: {position: 2}}
  ends: {type: boolean, inputBinding: {position: 1, prefix: --show-ends}}
  label: {type: string, default: none}
outputs:
  out: stdout
  label_out: {type: string, outputBinding: {outputEval: $(inputs.label)}}
stdout: out.txt
`;

let dir: string;
let home: string;
const env = () => embeddedEnv(home);
const run = (...args: string[]) => cwlRunner(dir, env(), ...args);

beforeAll(async () => {
	if (!isBuilt()) throw new Error("build Orrery first: npm run build");
	home = await mkdtemp(join(tmpdir(), "orrery-cwl-home-"));
	dir = await folderWith({
		"cat.cwl": cat,
		"named.cwl": `cwlVersion: v1.2
class: CommandLineTool
baseCommand: echo
inputs:
  name: {type: string, inputBinding: {position: 1}}
  outdir: {type: string, inputBinding: {position: 2}}
stdout: out.txt
outputs:
  out: stdout
`,
		"a.txt": "alpha\n",
		"b.txt": "beta\n",
		"job.yml": "files: [{class: File, location: a.txt}]\nends: false\nlabel: from-job\n",
	});
}, 60_000);

afterAll(async () => {
	await removeFolder(dir);
	await removeFolder(home);
});

describe.runIf(isBuilt())("inputs given as options after the document", () => {
	test("an array by repeating its option, Files by path, a boolean flag", async () => {
		const r = await run("cat.cwl", "--files", "a.txt", "--files=b.txt", "--ends");
		expect(r.stderr).toBe("");
		expect(r.code).toBe(0);
		expect(JSON.parse(r.stdout).label_out).toBe("none");
		expect(await readFile(join(dir, "out", "out.txt"), "utf8")).toBe("alpha$\nbeta$\n");
	});

	test("options override the input object's values; the others stay", async () => {
		const r = await run("cat.cwl", "job.yml", "--label", "from-option");
		expect(r.code).toBe(0);
		expect(JSON.parse(r.stdout).label_out).toBe("from-option");
		expect(await readFile(join(dir, "out", "out.txt"), "utf8")).toBe("alpha\n");
	});

	test("an input named like a runner option (--name, --outdir) takes it after the document; before it, the runner does", async () => {
		const out = join(dir, "named-out");
		const r = await orrery(
			["cwl-runner", "--quiet", "--outdir", out, "named.cwl", "--name", "Bob", "--outdir", "elsewhere"],
			env(),
			dir,
		);
		expect(r.stderr).toBe("");
		expect(r.code).toBe(0);
		expect(await readFile(join(out, "out.txt"), "utf8")).toBe("Bob elsewhere\n");
	});

	test("orrery run takes them too after a .cwl document, and refuses unknown options for a reana.yaml", async () => {
		const r = await orrery(
			["run", "-n", "from-run", "cat.cwl", "--files", "a.txt", "--ends=false", "--label", "via-run"],
			env(),
			dir,
		);
		expect(r.code, r.stderr).toBe(0);
		expect(r.stdout).toContain('"label_out": "via-run"');
		// -p converts by type too: a boolean from "true".
		const typed = await orrery(["run", "cat.cwl", "job.yml", "-p", "ends=true"], env(), dir);
		expect(typed.code, typed.stderr).toBe(0);
		const workspace = /outputs are in its workspace (\S+)/.exec(typed.stderr)?.[1] as string;
		expect(await readFile(join(workspace, "outputs", "out.txt"), "utf8")).toBe("alpha$\n");
		const folder = await orrery(["run", join(repoRoot, "examples/helloworld"), "--files", "a.txt"], env(), dir);
		expect(folder.code).toBe(64);
		expect(folder.stderr).toContain("unknown option '--files' (inputs as options are for a .cwl document");
		const before = await orrery(["cwl-runner", "-p", "x=1", "cat.cwl"], env(), dir);
		expect(before.code).toBe(64);
		expect(before.stderr).toContain("unknown option '-p' before the document");
	});

	test("--make-template prints an input object that, filled in, runs the tool", async () => {
		const template = await orrery(["cwl-runner", "--make-template", "cat.cwl"], env(), dir);
		expect(template.code).toBe(0);
		expect(template.stdout).toContain("# files: File[]");
		await writeFile(join(dir, "filled.yml"), template.stdout.replace("a/file/path", "a.txt"));
		const r = await run("cat.cwl", "filled.yml");
		expect(r.code).toBe(0);
		expect(JSON.parse(r.stdout).label_out).toBe("none");
		expect(await readFile(join(dir, "out", "out.txt"), "utf8")).toBe("alpha\n");
	});

	test("an unknown input, a missing value and a wrong value are usage errors (64) that say what is allowed", async () => {
		const unknown = await run("cat.cwl", "--files", "a.txt", "--nope", "1");
		expect(unknown.code).toBe(64);
		expect(unknown.stderr).toContain("the process has no input 'nope' (inputs: files, ends, label)");
		const missing = await run("cat.cwl", "--files");
		expect(missing.code).toBe(64);
		expect(missing.stderr).toContain("--files needs a value");
		const flag = await run("cat.cwl", "--files", "a.txt", "--ends=maybe");
		expect(flag.code).toBe(64);
		expect(flag.stderr).toContain("--ends is a flag");
	});
});
