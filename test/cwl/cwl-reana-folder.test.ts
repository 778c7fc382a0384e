// `orrery run FOLDER` whose reana.yaml is a CWL workflow (embedded server): the CLI uploads every
// document the workflow imports, includes or runs, and the local files its input object and defaults
// name, and nothing else.
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readdir, readFile, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { isBuilt, orrery, removeFolder } from "./cwl-cli.js";

const analysis: Record<string, string> = {
	"reana.yaml": `inputs:
  parameters:
    input: inputs.yml
workflow:
  type: cwl
  file: workflow/main.cwl
`,
	"inputs.yml": "text: {class: File, location: data/words.txt}\n",
	"workflow/main.cwl": `cwlVersion: v1.2
class: Workflow
requirements: {SchemaDefRequirement: {types: [{$import: ../types/mode.yml}]}}
inputs:
  text: File
outputs:
  count: {type: File, outputSource: count/n}
  shouted: {type: File, outputSource: shout/out}
steps:
  shout:
    run: ../tools/shout.cwl
    in: {text: text}
    out: [out]
  count:
    run: ../tools/count.cwl
    in: {f: shout/out}
    out: [n]
`,
	"types/mode.yml": "name: mode\ntype: enum\nsymbols: [loud, quiet]\n",
	"tools/shout.cwl": `cwlVersion: v1.2
class: CommandLineTool
requirements:
  InlineJavascriptRequirement:
    expressionLib: [{$include: ../lib/banner.js}]
  ShellCommandRequirement: {}
inputs:
  text: File
  header: {type: File, default: {class: File, location: ../data/header.txt}}
arguments:
  - {valueFrom: "cat $(inputs.header.path) $(inputs.text.path) | tr a-z A-Z; echo $(banner())", shellQuote: false}
stdout: shouted.txt
outputs:
  out: stdout
`,
	"lib/banner.js": 'function banner() { return "--end--"; }\n',
	"tools/count.cwl": `cwlVersion: v1.2
class: CommandLineTool
baseCommand: [wc, -l]
stdin: $(inputs.f.path)
inputs: {f: File}
stdout: n.txt
outputs:
  n: stdout
`,
	"data/words.txt": "ada\ngrace\n",
	"data/header.txt": "words:\n",
	"data/unused.txt": "not read by the workflow\n",
	"notes/todo.txt": "not read either\n",
};

let home: string;
let folder: string;
const env = () => ({
	ORRERY_HOME: home,
	ORRERY_SERVER_URL: "",
	REANA_SERVER_URL: "",
	ORRERY_CONTAINER_RUNTIME: "none",
});

async function writeTree(root: string, files: Record<string, string>): Promise<void> {
	for (const [name, text] of Object.entries(files)) {
		await mkdir(dirname(join(root, name)), { recursive: true });
		await writeFile(join(root, name), text);
	}
}

async function filesUnder(root: string, prefix = ""): Promise<string[]> {
	const out: string[] = [];
	for (const e of await readdir(join(root, prefix), { withFileTypes: true })) {
		const rel = prefix ? `${prefix}/${e.name}` : e.name;
		if (e.isDirectory()) out.push(...(await filesUnder(root, rel)));
		else out.push(rel);
	}
	return out;
}

beforeAll(async () => {
	if (!isBuilt()) throw new Error("build Orrery first: npm run build");
	home = await mkdtemp(join(tmpdir(), "orrery-cwl-folder-home-"));
	folder = join(await mkdtemp(join(tmpdir(), "orrery-cwl-folder-")), "analysis");
	await writeTree(folder, analysis);
}, 60_000);

afterAll(async () => {
	await removeFolder(home);
	if (folder) await removeFolder(dirname(folder));
});

describe.runIf(isBuilt())("orrery run FOLDER with a CWL reana.yaml", () => {
	test("uploads the documents the workflow reads and the files its inputs name, then runs it", async () => {
		const r = await orrery(["run", folder], env());
		expect(r.code, r.stderr + r.stdout).toBe(0);
		expect(r.stderr).toMatch(/uploaded 8 files/);
		expect(r.stdout).toMatch(/analysis\.1 finished/);
		const workspace = /workspace: (\S+)/.exec(r.stdout)?.[1] as string;
		const uploaded = (await filesUnder(workspace)).filter(
			(f) => !f.startsWith(".orrery/") && !f.startsWith("cwl-work/") && !f.startsWith("outputs/"),
		);
		expect(uploaded.sort()).toEqual([
			"data/header.txt",
			"data/words.txt",
			"inputs.yml",
			"lib/banner.js",
			"tools/count.cwl",
			"tools/shout.cwl",
			"types/mode.yml",
			"workflow/main.cwl",
		]);
		const outputs = await filesUnder(workspace, "cwl-work");
		const shouted = outputs.find((f) => f.endsWith("/out/shouted.txt")) as string;
		expect(await readFile(join(workspace, shouted), "utf8")).toBe("WORDS:\nADA\nGRACE\n--end--\n");
		const n = outputs.find((f) => f.endsWith("/out/n.txt")) as string;
		expect((await readFile(join(workspace, n), "utf8")).trim()).toBe("4");
		// The run's outputs are also in outputs/, as REANA leaves them, and are the jobs' files (linked, not copied).
		const published = (await filesUnder(workspace, "outputs")).sort();
		expect(published).toEqual(["outputs/n.txt", "outputs/shouted.txt"]);
		for (const f of published) {
			const original = outputs.find((o) => o.endsWith(`/out/${f.slice("outputs/".length)}`)) as string;
			expect((await stat(join(workspace, f))).ino).toBe((await stat(join(workspace, original))).ino);
		}
	});

	test("names a process in a packed file and takes the parameters as the input object", async () => {
		const packed = join(dirname(folder), "packed");
		await writeTree(packed, {
			"reana.yaml": `inputs:
  parameters:
    f: {class: File, location: data/x.txt}
workflow:
  type: cwl
  file: cwl/main.cwl#main
`,
			"cwl/main.cwl": `cwlVersion: v1.2
$graph:
  - id: main
    class: CommandLineTool
    baseCommand: cat
    inputs: {f: {type: File, inputBinding: {}}}
    stdout: copy.txt
    outputs: {copy: stdout}
`,
			"data/x.txt": "packed\n",
		});
		const r = await orrery(["run", packed], env());
		expect(r.code, r.stderr + r.stdout).toBe(0);
		expect(r.stderr).toMatch(/uploaded 2 files/);
		const workspace = /workspace: (\S+)/.exec(r.stdout)?.[1] as string;
		const copy = (await filesUnder(workspace, "cwl-work")).find((f) => f.endsWith("/out/copy.txt")) as string;
		expect(await readFile(join(workspace, copy), "utf8")).toBe("packed\n");
	});

	test("uploads a file named only by -p (typed by its input: a File path, relative to the folder)", async () => {
		const byParameter = join(dirname(folder), "by-parameter");
		await writeTree(byParameter, {
			"reana.yaml": "workflow:\n  type: cwl\n  file: cat.cwl\n",
			"cat.cwl": `cwlVersion: v1.2
class: CommandLineTool
baseCommand: cat
inputs: {f: {type: File, inputBinding: {}}, label: {type: string, default: x}}
stdout: copy.txt
outputs: {copy: stdout}
`,
			"data/y.txt": "named by -p\n",
			"data/z.txt": "not named\n",
		});
		const r = await orrery(["run", byParameter, "-p", "f=data/y.txt", "-p", "label=data/z.txt"], env());
		expect(r.code, r.stderr + r.stdout).toBe(0);
		// cat.cwl and data/y.txt; data/z.txt is the text of a string input, not a file to upload.
		expect(r.stderr).toMatch(/uploaded 2 files/);
		const workspace = /workspace: (\S+)/.exec(r.stdout)?.[1] as string;
		expect(existsSync(join(workspace, "data/z.txt"))).toBe(false);
		const copy = (await filesUnder(workspace, "cwl-work")).find((f) => f.endsWith("/out/copy.txt")) as string;
		expect(await readFile(join(workspace, copy), "utf8")).toBe("named by -p\n");
	});

	test("refuses a workflow that reads a document outside the analysis folder, before creating a run", async () => {
		const outside = join(dirname(folder), "shared.cwl");
		await writeFile(outside, analysis["tools/count.cwl"] as string);
		const other = join(dirname(folder), "outside");
		await writeTree(other, {
			...analysis,
			"workflow/main.cwl": (analysis["workflow/main.cwl"] as string).replace("../tools/count.cwl", "../../shared.cwl"),
		});
		const r = await orrery(["run", other], env());
		expect(r.code).toBe(65);
		expect(r.stderr).toMatch(/reads .*shared\.cwl, which is outside the analysis folder/);
		const list = await orrery(["list", "--json"], env());
		expect((JSON.parse(list.stdout) as { items: Array<{ name: string }> }).items.map((i) => i.name)).not.toContain(
			"outside.1",
		);
		expect(existsSync(join(other, "reana.yaml"))).toBe(true);
	});

	test("the CWL example runs: its outputs in outputs/, the total the sum of the chunks' counts", async () => {
		const example = join(import.meta.dirname, "../../examples/cwl-star-chunks");
		const r = await orrery(["run", example], env());
		expect(r.code, r.stderr + r.stdout).toBe(0);
		const workspace = /workspace: (\S+)/.exec(r.stdout)?.[1] as string;
		let bright = 0;
		for (const chunk of ["chunk-1", "chunk-2", "chunk-3", "chunk-4"]) {
			const rows = (await readFile(join(example, "data", `${chunk}.csv`), "utf8")).trim().split("\n").slice(1);
			const n = rows.filter((row) => Number(row.split(",")[3]) < 12).length;
			expect(await readFile(join(workspace, "outputs", `${chunk}.count.csv`), "utf8")).toBe(`${chunk}.csv,${n}\n`);
			bright += n;
		}
		expect(await readFile(join(workspace, "outputs", "total.txt"), "utf8")).toBe(`${bright}\n`);
		expect(r.stdout).toContain(`output:    ${join(workspace, "outputs", "total.txt")}`);
	});

	test("-p gives the CWL example's inputs by name, converted by their types", async () => {
		const example = join(import.meta.dirname, "../../examples/cwl-star-chunks");
		const r = await orrery(["run", example, "-p", "max_mag=8"], env());
		expect(r.code, r.stderr + r.stdout).toBe(0);
		const workspace = /workspace: (\S+)/.exec(r.stdout)?.[1] as string;
		let bright = 0;
		for (const chunk of ["chunk-1", "chunk-2", "chunk-3", "chunk-4"]) {
			const rows = (await readFile(join(example, "data", `${chunk}.csv`), "utf8")).trim().split("\n").slice(1);
			bright += rows.filter((row) => Number(row.split(",")[3]) < 8).length;
		}
		expect(await readFile(join(workspace, "outputs", "total.txt"), "utf8")).toBe(`${bright}\n`);
		const bad = await orrery(["run", example, "-p", "max_mag=bright"], env());
		expect(bad.code).not.toBe(0);
		expect(bad.stderr).toMatch(/error: parameter max_mag takes a number, not 'bright'/);
		const unknown = await orrery(["run", example, "-p", "min_mag=3"], env());
		expect(unknown.stderr).toMatch(/error: unknown input parameter min_mag; the workflow declares chunks, max_mag/);
	});
});
