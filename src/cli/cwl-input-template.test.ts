import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { loadCwl } from "../spec/index.js";
import { inputTemplate } from "./cwl-input-template.js";

const tool = `cwlVersion: v1.2
class: CommandLineTool
baseCommand: echo
inputs:
  reads: File[]
  ref: Directory?
  threads: {type: int, default: 4}
  mode: {type: {type: enum, symbols: [fast, slow]}}
  sample: {type: {type: record, fields: {name: string, depth: float}}}
  flag: boolean
outputs: []
`;

describe("an input object to fill in", () => {
	it("has every input, with its default or a placeholder of its type, and says which are optional", async () => {
		const { process } = await loadCwl("file:///docs/tool.cwl", { read: async () => tool });
		const text = inputTemplate(process);
		expect(parse(text)).toEqual({
			reads: [{ class: "File", path: "a/file/path" }],
			ref: { class: "Directory", path: "a/directory/path" },
			threads: 4,
			mode: "fast",
			sample: { name: "a_string", depth: 0.1 },
			flag: false,
		});
		expect(text).toContain("# ref: Directory, optional\n");
		expect(text).toContain("# threads: int, has a default\n");
		expect(text).toContain("# mode: one of fast, slow\n");
	});

	it("is an empty object for a process without inputs", async () => {
		const { process } = await loadCwl("file:///docs/none.cwl", {
			read: async () => "cwlVersion: v1.2\nclass: CommandLineTool\nbaseCommand: 'true'\ninputs: []\noutputs: []\n",
		});
		expect(parse(inputTemplate(process))).toEqual({});
	});
});
