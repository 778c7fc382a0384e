import { describe, expect, test } from "vitest";
import { SpecError } from "../problem.js";
import { loadCwl } from "./cwl-document-loader.js";
import type { CwlCommandLineTool, CwlWorkflow } from "./cwl-model.js";

/** Loads documents from memory: `files` maps names to texts, all in file:///docs/. */
function load(main: string, files: Record<string, string>) {
	return loadCwl(`file:///docs/${main}`, {
		read: async (uri) => {
			const name = uri.replace("file:///docs/", "");
			const text = files[name];
			if (text === undefined) throw new Error(`no such file ${name}`);
			return text;
		},
	});
}

async function problemOf(main: string, files: Record<string, string>): Promise<string> {
	try {
		await load(main, files);
	} catch (error) {
		if (error instanceof SpecError) return error.message;
		throw error;
	}
	throw new Error("loaded without a problem");
}

const tool = `cwlVersion: v1.2
class: CommandLineTool
baseCommand: echo
inputs:
  msg: {type: string, inputBinding: {position: 1}}
  opt: string?
  many: File[]
outputs:
  out: stdout
`;

describe("loading CWL documents", () => {
	test("normalises map forms, type shorthands and stdout outputs", async () => {
		const { process } = await load("tool.cwl", { "tool.cwl": tool });
		const t = process as CwlCommandLineTool;
		expect(t.inputs.map((i) => [i.id, i.type])).toEqual([
			["msg", "string"],
			["opt", ["null", "string"]],
			["many", { type: "array", items: "File" }],
		]);
		expect(t.outputs[0]?.type).toBe("File");
		expect(t.outputs[0]?.outputBinding?.glob).toBe(t.stdout);
	});

	test("picks #main of a packed $graph, or the entry a fragment names, with short identifiers", async () => {
		const packed = JSON.stringify({
			cwlVersion: "v1.2",
			$graph: [
				{ id: "#echo", class: "CommandLineTool", inputs: [{ id: "#echo/text", type: "string" }], outputs: [] },
				{
					id: "#main",
					class: "Workflow",
					inputs: [{ id: "#main/x", type: "string" }],
					outputs: [],
					steps: [{ id: "#main/s", run: "#echo", in: [{ id: "#main/s/text", source: "#main/x" }], out: [] }],
				},
			],
		});
		const main = (await load("packed.cwl", { "packed.cwl": packed })).process as CwlWorkflow;
		expect(main.class).toBe("Workflow");
		expect(main.steps[0]?.in[0]).toMatchObject({ id: "text", source: ["x"] });
		expect(main.steps[0]?.run.inputs[0]?.id).toBe("text");
		const echo = await load("packed.cwl#echo", { "packed.cwl": packed });
		expect(echo.process.class).toBe("CommandLineTool");
		expect(await problemOf("packed.cwl#nope", { "packed.cwl": packed })).toMatch(
			/no process with id '#nope'.*ids there: echo, main/,
		);
	});

	test("resolves $import, $include and SchemaDefRequirement types across files", async () => {
		const files = {
			"t.cwl": `cwlVersion: v1.2
class: CommandLineTool
requirements:
  - $import: types.yml
  - class: InlineJavascriptRequirement
    expressionLib: [{$include: lib.js}]
inputs:
  who: "types.yml#Person"
outputs: []
`,
			"types.yml":
				"class: SchemaDefRequirement\ntypes:\n  - {name: Person, type: record, fields: {name: string, age: int?}}\n",
			"lib.js": "function hi() { return 1; }",
		};
		const t = (await load("t.cwl", files)).process;
		expect(t.inputs[0]?.type).toMatchObject({
			type: "record",
			name: "Person",
			fields: [{ name: "name" }, { name: "age", type: ["null", "int"] }],
		});
		expect(t.requirements.find((r) => r.class === "InlineJavascriptRequirement")?.expressionLib).toEqual([
			"function hi() { return 1; }",
		]);
	});

	test("reads run: documents and upgrades v1.0 ones (optional secondary files, deep listings)", async () => {
		const files = {
			"wf.cwl":
				"cwlVersion: v1.2\nclass: Workflow\ninputs: {f: File}\noutputs: []\nsteps:\n  s: {run: old.cwl, in: {f: f}, out: []}\n",
			"old.cwl":
				'cwlVersion: v1.0\nclass: CommandLineTool\ninputs:\n  f: {type: File, secondaryFiles: [".bai?", "^.idx"]}\noutputs: []\n',
		};
		const wf = (await load("wf.cwl", files)).process as CwlWorkflow;
		const old = wf.steps[0]?.run;
		expect(old?.cwlVersion).toBe("v1.0");
		expect(old?.inputs[0]?.secondaryFiles).toEqual([{ pattern: ".bai", required: false }, { pattern: "^.idx" }]);
	});

	test("names the document, line and field of an unknown field, with a suggestion", async () => {
		const bad = tool.replace("baseCommand: echo", "baseCommand: echo\nstdot: out.txt");
		expect(await problemOf("tool.cwl", { "tool.cwl": bad })).toMatch(
			/^tool\.cwl:4:\d+: unknown field 'stdot' in a CommandLineTool \(hint: did you mean 'stdout'\?\)/,
		);
	});

	test("refuses unknown requirements but ignores unknown hints", async () => {
		const req = `${tool}requirements:\n  MagicRequirement: {}\n`;
		expect(await problemOf("tool.cwl", { "tool.cwl": req })).toMatch(
			/tool\.cwl:\d+:\d+: unsupported requirement 'MagicRequirement'.*move it under 'hints'/,
		);
		const hint = `${tool}hints:\n  MagicRequirement: {}\n`;
		await expect(load("tool.cwl", { "tool.cwl": hint })).resolves.toBeDefined();
	});

	test("refuses features newer than the document's version", async () => {
		const v11 = `cwlVersion: v1.1\nclass: Workflow\ninputs: {}\noutputs: []\nsteps:\n  s: {run: t.cwl, when: $(true), in: {}, out: []}\n`;
		expect(await problemOf("w.cwl", { "w.cwl": v11, "t.cwl": tool })).toMatch(
			/w\.cwl:6:\d+: 'when' needs cwlVersion v1\.2/,
		);
		expect(
			await problemOf("x.cwl", { "x.cwl": "cwlVersion: draft-3\nclass: CommandLineTool\ninputs: []\noutputs: []\n" }),
		).toMatch(/unsupported cwlVersion 'draft-3'/);
	});

	test("reports cycles among steps, unknown sources and invalid YAML with their lines", async () => {
		const cyclic = `cwlVersion: v1.2
class: Workflow
inputs: {}
outputs: []
steps:
  a: {run: t.cwl, in: {msg: b/out}, out: [out]}
  b: {run: t.cwl, in: {msg: a/out}, out: [out]}
`;
		expect(await problemOf("c.cwl", { "c.cwl": cyclic, "t.cwl": tool })).toMatch(
			/c\.cwl:\d+:\d+: the steps form a cycle: a → b → a/,
		);
		const dangling = cyclic.replace("msg: b/out", "msg: nowhere").replace("msg: a/out", "msg: a/out");
		expect(await problemOf("c.cwl", { "c.cwl": dangling, "t.cwl": tool })).toMatch(
			/takes 'msg' from 'nowhere', which is neither a workflow input nor a step output/,
		);
		expect(await problemOf("y.cwl", { "y.cwl": "class: CommandLineTool\ninputs: [\n" })).toMatch(
			/^y\.cwl:\d+:\d+: invalid YAML/,
		);
	});
});
