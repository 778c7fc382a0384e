import { describe, expect, it } from "vitest";
import type { CwlProcess } from "../spec/index.js";
import { parameterValues, parseInputOptions, splitAtDocument } from "./cwl-input-options.js";

const tool = {
	class: "CommandLineTool",
	inputs: [
		{ id: "n", type: ["null", "int"] },
		{ id: "x", type: "double" },
		{ id: "name", type: "string" },
		{ id: "flag", type: "boolean" },
		{ id: "mode", type: { type: "enum", symbols: ["file:///t.cwl#mode/fast", "file:///t.cwl#mode/slow"] } },
		{ id: "reads", type: { type: "array", items: "File" } },
		{ id: "ref", type: "Directory" },
		{ id: "rec", type: { type: "record", fields: [] } },
	],
} as unknown as CwlProcess;

describe("cwltool-style input options", () => {
	it("converts each kind of value", () => {
		expect(
			parseInputOptions(
				tool,
				[
					"--n",
					"-3",
					"--x=2.5e3",
					"--name",
					"two words",
					"--flag",
					"--mode",
					"slow",
					"--reads",
					"a.fq",
					"--reads",
					"/abs/b.fq",
					"--ref",
					"db",
				],
				"/work",
			),
		).toEqual({
			n: -3,
			x: 2500,
			name: "two words",
			flag: true,
			mode: "slow",
			reads: [
				{ class: "File", location: "file:///work/a.fq" },
				{ class: "File", location: "file:///abs/b.fq" },
			],
			ref: { class: "Directory", location: "file:///work/db" },
		});
		expect(parseInputOptions(tool, ["--flag=false"], "/w")).toEqual({ flag: false });
	});

	it("refuses what it cannot take, saying what would be right", () => {
		const bad = (words: string[]) => () => parseInputOptions(tool, words, "/w");
		expect(bad(["--n", "1.5"])).toThrow("--n takes a whole number, not '1.5'");
		expect(bad(["--x", "many"])).toThrow("--x takes a number, not 'many'");
		expect(bad(["--mode", "medium"])).toThrow("--mode takes one of fast, slow, not 'medium'");
		expect(bad(["--name", "a", "--name", "b"])).toThrow("--name is given twice");
		expect(bad(["--rec", "{}"])).toThrow("input 'rec' has a type that cannot be given as an option");
		expect(bad(["stray"])).toThrow("unexpected argument 'stray'");
		expect(bad(["--x"])).toThrow("--x needs a value");
	});

	it("skips the runner's own options after the document, unless the process has an input of that name", () => {
		const runner = { arity: (flag: string) => ({ "--outdir": 1, "--quiet": 0, "--name": 1, "-n": 1 })[flag] };
		expect(parseInputOptions(tool, ["--n", "2", "--outdir", "o", "--quiet", "-n", "run"], "/w", runner)).toEqual({
			n: 2,
		});
		// `name` is an input of this process: `--name` after the document is the input.
		expect(parseInputOptions(tool, ["--name", "Bob", "--outdir=o"], "/w", runner)).toEqual({ name: "Bob" });
	});

	it("skips all the values of a runner option that takes many, and refuses an unknown one before the document", () => {
		const runner = { arity: (flag: string) => ({ "-p": "many" as const, "--quiet": 0 })[flag] };
		expect(parseInputOptions(tool, ["-p", "a=1", "b=2", "--n", "4"], "/w", runner)).toEqual({ n: 4 });
		expect(splitAtDocument(["-p", "a=1", "b=2", "--quiet", "tool.cwl"], runner)).toMatchObject({
			document: "tool.cwl",
		});
		expect(() => splitAtDocument(["--nope", "tool.cwl"], runner)).toThrow(
			"unknown option '--nope' before the document",
		);
	});

	it("splits the command line at the document: the runner's options before it, the input object, the rest", () => {
		const runner = { arity: (flag: string) => ({ "--outdir": 1, "--quiet": 0 })[flag] };
		expect(splitAtDocument(["--outdir", "o", "--quiet", "tool.cwl", "job.yml", "--x", "1"], runner)).toEqual({
			before: new Map<string, string | true>([
				["--outdir", "o"],
				["--quiet", true],
			]),
			document: "tool.cwl",
			job: "job.yml",
			rest: ["--x", "1"],
		});
		expect(splitAtDocument(["--outdir=o", "tool.cwl", "--x", "1"], runner)).toEqual({
			before: new Map([["--outdir", "o"]]),
			document: "tool.cwl",
			rest: ["--x", "1"],
		});
	});

	it("converts -p name=value pairs by the input's type too, and keeps the text of the others", () => {
		expect(
			parameterValues(tool, { x: "8", n: "3", flag: "false", reads: "a.fq", rec: "{}", other: "7" }, "/w"),
		).toEqual({
			x: 8,
			n: 3,
			flag: false,
			reads: [{ class: "File", location: "file:///w/a.fq" }],
			rec: "{}",
			other: "7",
		});
		expect(() => parameterValues(tool, { n: "many" }, "/w")).toThrow("-p n takes a whole number, not 'many'");
		expect(() => parameterValues(tool, { flag: "yes" }, "/w")).toThrow("-p flag takes true or false, not 'yes'");
	});
});
