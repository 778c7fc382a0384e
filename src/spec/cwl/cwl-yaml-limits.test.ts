import { describe, expect, test } from "vitest";
import { SpecError } from "../problem.js";
import { MAX_ALIAS_NODES, MAX_DOCUMENT_BYTES, parseCwlText, relaxFlowIndentation } from "./cwl-yaml.js";

function problemOf(text: string): string {
	try {
		parseCwlText(text, "bomb.cwl");
	} catch (error) {
		if (error instanceof SpecError) return error.message;
		throw error;
	}
	throw new Error("parsed without a problem");
}

describe("YAML limits", () => {
	test("refuses nested aliases that stand for a billion values, naming the line", () => {
		const levels = ["l0: &l0 [x, x, x, x, x, x, x, x, x, x]"];
		for (let n = 1; n <= 9; n++)
			levels.push(
				`l${n}: &l${n} [${Array(10)
					.fill(`*l${n - 1}`)
					.join(", ")}]`,
			);
		const text = `cwlVersion: v1.2\nclass: CommandLineTool\n${levels.join("\n")}\n`;
		expect(text.length).toBeLessThan(1000);
		expect(problemOf(text)).toMatch(
			new RegExp(`^bomb\\.cwl:\\d+:\\d+: the aliases of this document stand for more than ${MAX_ALIAS_NODES} values`),
		);
	});

	test("accepts anchors reused a few times", () => {
		const parsed = parseCwlText("a: &req {class: InlineJavascriptRequirement}\nb: [*req, *req]\n", "ok.cwl") as {
			b: unknown[];
		};
		expect(parsed.b).toEqual([{ class: "InlineJavascriptRequirement" }, { class: "InlineJavascriptRequirement" }]);
	});

	test("refuses an alias inside the value it names", () => {
		expect(problemOf("cwlVersion: v1.2\ntype: &t {type: array, items: *t}\n")).toMatch(
			/^bomb\.cwl:2:\d+: the alias \*t refers to a value that contains it/,
		);
	});

	test("refuses a document larger than the limit before parsing it", () => {
		const text = `x: "${"a".repeat(MAX_DOCUMENT_BYTES)}"\n`;
		expect(problemOf(text)).toMatch(
			/^bomb\.cwl at top level: the document is \d+ bytes, more than the limit of 16777216/,
		);
	});

	test("re-indents flow collections in time linear in the line", () => {
		// Each '[' after 'a' used to cost a slice and a regex of the line before it.
		const text = `cwlVersion: v1.2\nclass: CommandLineTool\nx: a${"[".repeat(40_000)}\n  bad: indent\n`;
		const started = performance.now();
		relaxFlowIndentation(text);
		expect(() => parseCwlText(text, "bomb.cwl")).toThrow(SpecError);
		expect(performance.now() - started).toBeLessThan(2000);
	});
});
