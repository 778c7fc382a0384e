import { describe, expect, test } from "vitest";
import { problemOf } from "../../../test/support/cwl-documents.js";
import { loadCwl } from "./cwl-document-loader.js";
import { MAX_WORKFLOW_DEPTH } from "./cwl-normalise-process.js";

const workflowRunning = (target: string) => `cwlVersion: v1.2
class: Workflow
inputs: []
outputs: []
steps:
  again:
    run: ${target}
    in: []
    out: []
`;

describe("workflows that run themselves", () => {
	test("refuses a workflow without an id whose step runs its own document", async () => {
		const message = await problemOf("wf.cwl", { "wf.cwl": workflowRunning("wf.cwl") });
		expect(message).toMatch(/^wf\.cwl:7:\d+: step 'again' runs the workflow that contains it/);
	});

	test("refuses two documents that run each other", async () => {
		const message = await problemOf("a.cwl", { "a.cwl": workflowRunning("b.cwl"), "b.cwl": workflowRunning("a.cwl") });
		expect(message).toMatch(/^b\.cwl:7:\d+: step 'again' runs a workflow that contains it \(2 levels up\)/);
	});

	test("refuses an inline workflow run from inside itself through a YAML alias, when parsing", async () => {
		const message = await problemOf("wf.cwl", {
			"wf.cwl": `cwlVersion: v1.2
class: Workflow
inputs: []
outputs: []
steps:
  outer:
    in: []
    out: []
    run: &inner
      class: Workflow
      inputs: []
      outputs: []
      steps:
        loop: {run: *inner, in: [], out: []}
`,
		});
		expect(message).toMatch(/^wf\.cwl:14:\d+: the alias \*inner refers to a value that contains it/);
	});

	test(`refuses subworkflows nested more than ${MAX_WORKFLOW_DEPTH} deep`, async () => {
		const files: Record<string, string> = {};
		for (let i = 0; i <= MAX_WORKFLOW_DEPTH; i++) files[`w${i}.cwl`] = workflowRunning(`w${i + 1}.cwl`);
		files[`w${MAX_WORKFLOW_DEPTH + 1}.cwl`] = "cwlVersion: v1.2\nclass: CommandLineTool\ninputs: []\noutputs: []\n";
		const message = await problemOf("w0.cwl", files);
		expect(message).toMatch(
			new RegExp(`^w${MAX_WORKFLOW_DEPTH - 1}\\.cwl:7:\\d+: step 'again' nests subworkflows more than 50 deep`),
		);
	});

	test("normalises a document run by many steps of many subworkflows once", async () => {
		// Ten steps per level, twelve levels: following every path would take 10¹² normalisations.
		const files: Record<string, string> = {
			"l12.cwl": "cwlVersion: v1.2\nclass: CommandLineTool\ninputs: []\noutputs: []\n",
		};
		for (let i = 0; i < 12; i++) {
			const steps = Array.from({ length: 10 }, (_, k) => `  s${k}: {run: l${i + 1}.cwl, in: [], out: []}`).join("\n");
			files[`l${i}.cwl`] = `cwlVersion: v1.2\nclass: Workflow\ninputs: []\noutputs: []\nsteps:\n${steps}\n`;
		}
		const loaded = await loadCwl("file:///docs/l0.cwl", {
			read: async (uri) => files[uri.replace("file:///docs/", "")] ?? "",
		});
		expect(loaded.process.class).toBe("Workflow");
	});
});
