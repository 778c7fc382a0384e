import { describe, expect, test } from "vitest";
import { type CwlCommandLineTool, loadCwl } from "../../spec/index.js";
import { buildCommandLine } from "./command-line.js";
import { javascriptOf } from "./run-environment.js";

async function tool(text: string): Promise<CwlCommandLineTool> {
	const loaded = await loadCwl("file:///virtual/tool.cwl", { read: async () => text });
	return loaded.process as CwlCommandLineTool;
}

async function words(
	text: string,
	inputs: Record<string, unknown>,
	runtime: Record<string, unknown> = {},
): Promise<string[]> {
	const t = await tool(text);
	const javascript = javascriptOf([t]);
	return buildCommandLine(t, inputs, { inputs, runtime, ...(javascript ? { javascript } : {}) }, (f) => f).map(
		(w) => w.text,
	);
}

const header = "cwlVersion: v1.2\nclass: CommandLineTool\noutputs: []\n";
const file = (path: string) => ({ class: "File", path, location: `file://${path}`, basename: path.split("/").pop() });

describe("command lines", () => {
	test("sorts arguments and inputs by position, arguments first on ties", async () => {
		const doc = `${header}baseCommand: [tool, run]
arguments: [{valueFrom: "-t", position: 1}, first]
inputs:
  b: {type: string, inputBinding: {position: 2}}
  a: {type: int, inputBinding: {position: 1, prefix: -n}}
  c: {type: string, inputBinding: {}}`;
		expect(await words(doc, { a: 3, b: "bee", c: "sea" })).toEqual([
			"tool",
			"run",
			"first",
			"sea",
			"-t",
			"-n",
			"3",
			"bee",
		]);
	});

	test("applies prefix, separate, itemSeparator and booleans", async () => {
		const doc = `${header}inputs:
  flag: {type: boolean, inputBinding: {prefix: --flag, position: 1}}
  off: {type: boolean, inputBinding: {prefix: --off, position: 2}}
  joined: {type: "int[]", inputBinding: {prefix: "-I", itemSeparator: ",", separate: false, position: 3}}
  out: {type: string, inputBinding: {prefix: "--out=", separate: false, position: 4}}`;
		expect(await words(doc, { flag: true, off: false, joined: [1, 2, 3], out: "x" })).toEqual([
			"--flag",
			"-I1,2,3",
			"--out=x",
		]);
	});

	test("binds array items with the array schema's binding and the list with its own", async () => {
		const doc = `${header}inputs:
  reads:
    type: {type: array, items: File, inputBinding: {prefix: -YYY}}
    inputBinding: {position: 3, prefix: -XXX}
  plain:
    type: string[]
    inputBinding: {position: 4}
  empty:
    type: string[]
    inputBinding: {position: 5, prefix: --never}`;
		expect(await words(doc, { reads: [file("/d/r1.fq"), file("/d/r2.fq")], plain: ["p", "q"], empty: [] })).toEqual([
			"-XXX",
			"-YYY",
			"/d/r1.fq",
			"-YYY",
			"/d/r2.fq",
			"p",
			"q",
		]);
	});

	test("binds record fields at their own positions, and skips nulls without evaluating valueFrom", async () => {
		const doc = `${header}arguments: [{valueFrom: cat, position: 1}, {valueFrom: "&&", position: 4}]
inputs:
  rec:
    type:
      type: record
      fields:
        x: {type: File, inputBinding: {position: 2}}
        y: {type: File, inputBinding: {position: 6}}
  maybe:
    type: File?
    inputBinding: {prefix: -cfg, valueFrom: $(self.basename)}`;
		expect(await words(doc, { rec: { x: file("/d/x"), y: file("/d/y") }, maybe: null })).toEqual([
			"cat",
			"/d/x",
			"&&",
			"/d/y",
		]);
	});

	test("evaluates valueFrom and positions from expressions", async () => {
		const doc = `${header}requirements: {InlineJavascriptRequirement: {}}
arguments: [{valueFrom: $(runtime.cores), prefix: -t, position: 1}]
inputs:
  n: {type: int, inputBinding: {position: $(self * -1), valueFrom: $(self + 1)}}`;
		expect(await words(doc, { n: 5 }, { cores: 4 })).toEqual(["6", "-t", "4"]);
	});

	test("flattens nested lists of plain values", async () => {
		const doc = `${header}inputs:
  letters: {type: {type: array, items: {type: array, items: string}}, inputBinding: {position: 1}}`;
		expect(await words(doc, { letters: [["a", "b"], ["c"]] })).toEqual(["a", "b", "c"]);
	});
});
