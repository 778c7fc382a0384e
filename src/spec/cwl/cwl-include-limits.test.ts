import { describe, expect, test } from "vitest";
import { SpecError } from "../problem.js";
import { type CwlLoadOptions, loadCwl, MAX_INCLUDE_BYTES } from "./cwl-document-loader.js";

const including = (count: number, target: string) => `cwlVersion: v1.2
class: CommandLineTool
baseCommand: echo
inputs:
${Array.from({ length: count }, (_, i) => `  x${i}: {type: string, default: {$include: ${target}}}`).join("\n")}
outputs: []
`;

/** Loader options over texts in memory, counting the reads of each name. */
function fromMemory(files: Record<string, string>, sizes: Record<string, number> = {}) {
	const reads: Record<string, number> = {};
	const options: CwlLoadOptions = {
		read: async (uri) => {
			const name = uri.replace("file:///docs/", "");
			reads[name] = (reads[name] ?? 0) + 1;
			const text = files[name];
			if (text === undefined) throw new Error(`no such file ${name}`);
			return text;
		},
		size: async (uri) => sizes[uri.replace("file:///docs/", "")],
	};
	return { options, reads };
}

async function problemOf(promise: Promise<unknown>): Promise<string> {
	try {
		await promise;
	} catch (error) {
		if (error instanceof SpecError) return error.message;
		throw error;
	}
	throw new Error("loaded without a problem");
}

describe("$include limits", () => {
	test("reads a file included many times once", async () => {
		const { options, reads } = fromMemory({ "tool.cwl": including(16, "data.txt"), "data.txt": "hello" });
		const loaded = await loadCwl("file:///docs/tool.cwl", options);
		expect(loaded.process.inputs.map((i) => i.default)).toEqual(Array(16).fill("hello"));
		expect(reads["data.txt"]).toBe(1);
	});

	test("refuses an include over the limit by its size, before reading it", async () => {
		const { options, reads } = fromMemory(
			{ "tool.cwl": including(16, "big.dat"), "big.dat": "" },
			{ "big.dat": 500 * 1024 * 1024 },
		);
		expect(await problemOf(loadCwl("file:///docs/tool.cwl", options))).toMatch(
			/^tool\.cwl:5:\d+: \$include big\.dat brings the included text over the limit of 67108864 bytes/,
		);
		expect(reads["big.dat"]).toBeUndefined();
	});

	test("refuses included text over the limit when the reader cannot tell sizes", async () => {
		const half = "x".repeat(MAX_INCLUDE_BYTES / 2 + 1);
		const { options } = fromMemory({
			"tool.cwl": `${including(1, "a.txt")}`.replace(
				"outputs: []",
				"  y: {type: string, default: {$include: b.txt}}\noutputs: []",
			),
			"a.txt": half,
			"b.txt": half,
		});
		delete options.size;
		expect(await problemOf(loadCwl("file:///docs/tool.cwl", options))).toMatch(
			/^tool\.cwl:6:\d+: \$include b\.txt brings the included text over the limit/,
		);
	});

	test("refuses a document over the limit by its size, before reading it", async () => {
		const { options, reads } = fromMemory({ "tool.cwl": "" }, { "tool.cwl": 17 * 1024 * 1024 });
		expect(await problemOf(loadCwl("file:///docs/tool.cwl", options))).toMatch(
			/^tool\.cwl at top level: cannot read tool\.cwl: it is 17825792 bytes, more than the limit of 16777216/,
		);
		expect(reads["tool.cwl"]).toBeUndefined();
	});
});
