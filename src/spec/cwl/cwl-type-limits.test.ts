import { describe, expect, test } from "vitest";
import { problemOf } from "../../../test/support/cwl-documents.js";
import { loadCwl } from "./cwl-document-loader.js";
import { MAX_TYPE_DEPTH } from "./cwl-normalise-types.js";

const toolWithType = (type: string) => `cwlVersion: v1.2
class: CommandLineTool
baseCommand: echo
inputs:
  x:
    type: ${type}
outputs: []
`;

describe("recursive and deep types", () => {
	test("refuses a type that contains itself through $import, naming the document and field", async () => {
		const message = await problemOf("tool.cwl", {
			"tool.cwl": toolWithType("{$import: t.yml}"),
			"t.yml": "type: array\nitems: {$import: t.yml}\n",
		});
		expect(message).toMatch(/^t\.yml:2:\d+: the type at 'inputs\.x\.type\.items' contains itself/);
	});

	test("refuses a type that contains itself through a YAML alias", async () => {
		const message = await problemOf("tool.cwl", { "tool.cwl": toolWithType("&t {type: array, items: *t}") });
		expect(message).toMatch(/^tool\.cwl:6:\d+: the alias \*t refers to a value that contains it/);
	});

	test("refuses a type nested deeper than the limit", async () => {
		const message = await problemOf("tool.cwl", {
			"tool.cwl": toolWithType(`"File${"[]".repeat(MAX_TYPE_DEPTH + 1)}"`),
		});
		expect(message).toMatch(/^tool\.cwl:6:\d+: the type at 'inputs\.x\.type' nests more than 64 deep/);
	});

	test("accepts a type object used by two inputs", async () => {
		const loaded = await loadCwl("file:///docs/tool.cwl", {
			read: async () =>
				"cwlVersion: v1.2\nclass: CommandLineTool\ninputs:\n  a: {type: &t {type: array, items: string}}\n  b: {type: *t}\noutputs: []\n",
		});
		expect(loaded.process.inputs.map((i) => i.type)).toEqual([
			{ type: "array", items: "string" },
			{ type: "array", items: "string" },
		]);
	});
});
