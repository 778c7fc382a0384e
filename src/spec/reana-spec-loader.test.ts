import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { type LoadedSpec, loadReanaSpecFile, SpecError, validateReanaSpec } from "./index.js";

function specFile(text: string, extra: Record<string, string> = {}): string {
	const dir = mkdtempSync(join(tmpdir(), "orrery-spec-"));
	writeFileSync(join(dir, "reana.yaml"), text);
	for (const [name, content] of Object.entries(extra)) writeFileSync(join(dir, name), content);
	return join(dir, "reana.yaml");
}

async function problemsOf(text: string, extra: Record<string, string> = {}) {
	try {
		await loadReanaSpecFile(specFile(text, extra));
	} catch (error) {
		if (error instanceof SpecError) return error;
		throw error;
	}
	throw new Error("expected a SpecError");
}

const valid = `
version: 0.9.0
inputs:
  files: [code/hello.py]
  parameters:
    name: world
workflow:
  type: serial
  specification:
    steps:
      - name: greet
        environment: python:3.12
        commands:
          - python code/hello.py "\${name}"
outputs:
  files: [out.txt]
`;

describe("reana.yaml loader", () => {
	it("loads a valid serial specification", async () => {
		const spec: LoadedSpec = await loadReanaSpecFile(specFile(valid));
		expect(spec.type).toBe("serial");
		expect(spec.reana.inputs?.parameters).toEqual({ name: "world" });
		expect(spec.warnings).toEqual([]);
	});

	it("reports invalid YAML with file, line and column", async () => {
		const err = await problemsOf("workflow:\n  type: serial\n   specification: [\n");
		expect(err.message).toMatch(/^reana\.yaml:\d+:\d+: invalid YAML/);
		expect(err.problems[0]?.line).toBeGreaterThanOrEqual(2);
		expect(err.problems[0]?.hint).not.toBe("");
	});

	it("reports a duplicate key with its position and a hint", async () => {
		const err = await problemsOf("workflow:\n  type: serial\n  type: cwl\n");
		expect(err.problems[0]).toMatchObject({ line: 3, severity: "error" });
		expect(err.problems[0]?.hint).toMatch(/only once/);
	});

	it("rejects an unknown workflow type and lists the allowed ones", async () => {
		const err = await problemsOf("workflow:\n  type: nextflow\n  file: main.nf\n");
		expect(err.problems[0]).toMatchObject({ line: 2, column: 9, path: "workflow.type" });
		expect(err.problems[0]?.message).toMatch(/serial, cwl, snakemake, yadage/);
	});

	it("rejects a serial workflow without steps", async () => {
		const err = await problemsOf("workflow:\n  type: serial\n  specification:\n    steps: []\n");
		expect(err.problems[0]).toMatchObject({ path: "workflow.specification.steps", line: 4 });
		expect(err.message).toMatch(/at least 1 item/);
	});

	it("suggests the right spelling of a misspelt key", async () => {
		const err = await problemsOf(
			"inputs:\n  parametres: {a: 1}\nworkflow:\n  type: serial\n  specification: {steps: [{commands: [ls]}]}\n",
		);
		expect(err.problems[0]).toMatchObject({ line: 2, column: 3 });
		expect(err.problems[0]?.hint).toBe("did you mean 'parameters'?");
	});

	it("rejects a command that uses an undefined parameter, naming step and line", async () => {
		const err = await problemsOf(valid.replace('"${name}"', '"${nmae}"'));
		expect(err.problems[0]).toMatchObject({ severity: "error", line: 14 });
		expect(err.problems[0]?.message).toMatch(/step 'greet' uses the parameter 'nmae', which is not defined/);
		expect(err.problems[0]?.hint).toMatch(/inputs\.parameters/);
	});

	it("only warns about an undefined upper-case name, which the shell expands", async () => {
		const spec = await loadReanaSpecFile(specFile(valid.replace('"${name}"', '"${HOME}"')));
		expect(spec.warnings).toHaveLength(1);
		expect(spec.warnings[0]?.severity).toBe("warning");
	});

	it("accepts a parameter given at start that the file does not define", async () => {
		const text = valid.replace('"${name}"', '"${extra}"');
		const spec = await loadReanaSpecFile(specFile(text), { parameters: { extra: "1" } });
		expect(spec.type).toBe("serial");
	});

	it("inlines the steps of workflow.file and reports their errors in that file", async () => {
		const ok = await loadReanaSpecFile(
			specFile("workflow:\n  type: serial\n  file: steps.yaml\n", {
				"steps.yaml": "steps:\n  - commands: [echo hi]\n",
			}),
		);
		expect(ok.reana.workflow.specification).toEqual({ steps: [{ commands: ["echo hi"] }] });
		const err = await problemsOf("workflow:\n  type: serial\n  file: steps.yaml\n", {
			"steps.yaml": "steps:\n  - commands: echo hi\n",
		});
		expect(err.problems[0]).toMatchObject({
			file: "steps.yaml",
			line: 2,
			path: "workflow.specification.steps[0].commands",
		});
	});

	it("says so when workflow.file does not exist", async () => {
		const err = await problemsOf("workflow:\n  type: serial\n  file: missing.yaml\n");
		expect(err.message).toMatch(/missing\.yaml does not exist/);
	});

	it("rejects two steps with the same name", async () => {
		const err = await problemsOf(
			"workflow:\n  type: serial\n  specification:\n    steps:\n      - {name: a, commands: [x]}\n      - {name: a, commands: [y]}\n",
		);
		expect(err.message).toMatch(/step name 'a' is used by steps 0 and 1/);
	});

	it("validates JSON without positions, naming the path instead", () => {
		expect(() => validateReanaSpec({ workflow: { type: "serial" } })).toThrow(
			/reana\.yaml at workflow: the workflow has neither/,
		);
	});
});
