import { describe, expect, it } from "vitest";
import { loadCwl } from "../../spec/index.js";
import { whereOf } from "./run-environment.js";

const text = `cwlVersion: v1.2
class: CommandLineTool
requirements:
  - class: InlineJavascriptRequirement
  - class: EnvVarRequirement
    envDef: {X: $(inputs.msg)}
hints:
  ResourceRequirement: {coresMin: 1}
baseCommand: echo
inputs:
  msg: {type: string, inputBinding: {position: 1}}
outputs:
  out:
    type: File
    outputBinding: {glob: $(inputs.msg)}
stdout: $(inputs.msg)
`;

describe("where a run-time error points", () => {
	it("names the line of the field it is about, else the process's", async () => {
		const { process } = await loadCwl("file:///docs/tool.cwl", { read: async () => text });
		const at = (field: string) => whereOf(process, "/ws", process.loc, field);
		expect(at("stdout")).toBe("tool.cwl:16: stdout");
		expect(at("inputs.msg")).toBe("tool.cwl:11: inputs.msg");
		expect(at("outputs.out.outputBinding.glob")).toBe("tool.cwl:14: outputs.out.outputBinding.glob");
		expect(at("EnvVarRequirement.X")).toBe("tool.cwl:5: EnvVarRequirement.X");
		expect(at("ResourceRequirement")).toBe("tool.cwl:8: ResourceRequirement");
		expect(at("arguments[0].position")).toBe("tool.cwl:1: arguments[0].position");
		// A position given explicitly (an output's own) is kept.
		const out = process.outputs[0];
		expect(whereOf(process, "/ws", out?.loc, "output 'out'")).toBe("tool.cwl:14: output 'out'");
	});
});
