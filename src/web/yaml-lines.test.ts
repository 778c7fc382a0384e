import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { isPlainSafe, toYaml, yamlLines } from "./yaml-lines.js";

const spec = {
	version: "0.9.0",
	inputs: { files: ["code/a.py"], parameters: { sleeptime: 0.5, flag: "true", empty: "", note: "a: b" } },
	workflow: {
		type: "serial",
		specification: {
			steps: [{ name: "greet", commands: ['python3 "${x}" --n 1', "echo hi # not a comment"] }, { commands: [] }],
		},
	},
	outputs: { files: [] },
	script: "line one\nline two\n",
	nested: [[1, 2], { a: null }],
};

describe("yamlLines", () => {
	it("writes YAML that reads back as the same value", () => {
		expect(parse(toYaml(spec))).toEqual(spec);
	});

	it("quotes strings that would read back as something else", () => {
		for (const s of ["true", "1.5", "", "a: b", "- x", "#x", " lead", "x #y", "~"]) expect(isPlainSafe(s)).toBe(false);
		expect(isPlainSafe('python3 "${helloworld}" --inputfile x')).toBe(true);
	});

	it("tags keys, strings and numbers for highlighting", () => {
		const line = yamlLines({ sleeptime: 0.5 })[0]!;
		expect(line.map((t) => t.kind)).toEqual(["key", "punct", "space", "number"]);
	});
});
