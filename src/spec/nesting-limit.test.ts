import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadCwl, loadReanaSpecFile, parseCwlText, SpecError, validateReanaSpec } from "./index.js";
import { MAX_NESTING_DEPTH } from "./nesting-limit.js";

const deepFlowSeq = (n: number) => `${"[".repeat(n)}1${"]".repeat(n)}`;
const deepFlowMap = (n: number) => `${"{a: ".repeat(n)}1${"}".repeat(n)}`;
/** `n` mappings, each one indented one column more than the one holding it. */
const deepBlock = (n: number, indent: number) =>
	`${Array.from({ length: n }, (_, i) => `${" ".repeat(indent + i)}a:`).join("\n")} 1`;

function reanaYaml(parameter: string): string {
	return `inputs:
  parameters:
    x: ${parameter}
workflow:
  type: serial
  specification:
    steps:
      - commands: [echo]
`;
}

async function messageOf(run: () => unknown): Promise<string> {
	try {
		await run();
	} catch (error) {
		if (error instanceof SpecError) return error.message;
		throw error;
	}
	throw new Error("expected a SpecError");
}

function loadReana(text: string) {
	const dir = mkdtempSync(join(tmpdir(), "orrery-nesting-"));
	writeFileSync(join(dir, "reana.yaml"), text);
	return loadReanaSpecFile(join(dir, "reana.yaml"));
}

const tooDeep = /lists and mappings are nested more than 200 levels deep here \(hint: flatten the data/;

describe("documents nested too deeply for the parser and validators", () => {
	it("refuses a reana.yaml with 100,000 nested '[' or '{', naming the file and line, on one line", async () => {
		for (const value of [deepFlowSeq(100_000), deepFlowMap(100_000)]) {
			const message = await messageOf(() => loadReana(reanaYaml(value)));
			expect(message).toMatch(/^reana\.yaml:3:\d+: /);
			expect(message).toMatch(tooDeep);
			expect(message).not.toContain("\n");
		}
	});

	it("refuses block nesting in a reana.yaml, at the line where it gets too deep", async () => {
		const message = await messageOf(() => loadReana(reanaYaml(`\n${deepBlock(1000, 6)}`)));
		// inputs, parameters and the top level take three levels: the 198th mapping of x is the 201st.
		expect(message).toMatch(new RegExp(`^reana\\.yaml:${3 + MAX_NESTING_DEPTH - 2}:\\d+: `));
		expect(message).toMatch(tooDeep);
	});

	it("accepts a reana.yaml nested exactly to the limit and refuses one level more", async () => {
		// The top level, inputs and parameters are three levels.
		const spec = await loadReana(reanaYaml(deepFlowSeq(MAX_NESTING_DEPTH - 3)));
		expect(spec.reana.inputs?.parameters?.x).toBeDefined();
		expect(await messageOf(() => loadReana(reanaYaml(deepFlowSeq(MAX_NESTING_DEPTH - 2))))).toMatch(tooDeep);
	});

	it("counts what aliases stand for, and refuses an alias inside the value it names", async () => {
		// Each anchored value is 150 levels deep and holds the one before it: 450 levels once expanded.
		const chain = ["a0: &a0 1", "a1: &a1 *a0", "a2: &a2 *a1", "a3: &a3 *a2"].map((line, i) =>
			i === 0 ? line : line.replace(/\*a\d/, (alias) => `${"[".repeat(150)}${alias}${"]".repeat(150)}`),
		);
		const text = `${chain.join("\n")}\n${reanaYaml("*a3")}`;
		expect(await messageOf(() => loadReana(text))).toMatch(/^reana\.yaml:\d+:\d+: lists and mappings are nested/);
		expect(await messageOf(() => loadReana(reanaYaml("&x [1, *x]")))).toMatch(
			/^reana\.yaml:3:\d+: the alias \*x refers to a value that contains it \(hint: /,
		);
	});

	it("refuses a JSON specification (an API body) nested 100,000 deep without overflowing the stack", async () => {
		let x: unknown = 1;
		for (let i = 0; i < 100_000; i++) x = [x];
		const body = JSON.parse(JSON.stringify({ inputs: { parameters: {} }, workflow: { type: "serial" } }));
		body.inputs.parameters.x = x;
		const message = await messageOf(() => validateReanaSpec(body, "reana.yaml"));
		expect(message).toMatch(/^reana\.yaml at inputs\.parameters\.x\[0\]…: lists and mappings are nested/);
	});

	it("refuses a CWL document or parameter file nested too deep, naming it and the line", async () => {
		const tool = `cwlVersion: v1.2\nclass: CommandLineTool\nbaseCommand: echo\ninputs:\n  x:\n    type: Any\n    default: ${deepFlowSeq(100_000)}\noutputs: []\n`;
		expect(await messageOf(() => parseCwlText(tool, "tool.cwl"))).toMatch(
			new RegExp(`^tool\\.cwl:7:\\d+: ${tooDeep.source}`),
		);
		const loaded = () => loadCwl("file:///docs/tool.cwl", { read: async () => tool });
		expect(await messageOf(loaded)).toMatch(/^tool\.cwl:7:\d+: lists and mappings are nested/);
		expect(await messageOf(() => parseCwlText(`x: ${deepFlowMap(100_000)}\n`, "inputs.yml"))).toMatch(
			/^inputs\.yml:1:\d+: lists and mappings are nested/,
		);
		// JSON the YAML parser does not take (a tab) is read as JSON, and limited the same way.
		const json = `{"x":\t${deepFlowSeq(100_000)}}`;
		expect(await messageOf(() => parseCwlText(json, "inputs.json"))).toMatch(/^inputs\.json:1:\d+: lists and mappings/);
	});
});
