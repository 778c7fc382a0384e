import { mkdirSync, mkdtempSync, rmSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import type { CwlCommandLineTool } from "../../spec/index.js";
import { loadCwl } from "../../spec/index.js";
import { type WorkspaceFiles, workspaceFiles } from "../../storage/index.js";
import { collectOutputs, MAX_OUTPUT_JSON_BYTES } from "./output-collector.js";
import { globOutputs, globSegmentMatcher, MAX_GLOB_MATCHES } from "./output-glob.js";
import { runEnvironment } from "./run-environment.js";
import type { Invocation } from "./tool-invocation.js";

let root: string;
let out: string;
let files: WorkspaceFiles;

beforeEach(() => {
	root = mkdtempSync(join(tmpdir(), "orrery-cwl-limits-"));
	out = join(root, "job/out");
	mkdirSync(out, { recursive: true });
	files = workspaceFiles(root);
});

afterEach(() => {
	rmSync(root, { recursive: true, force: true });
});

async function toolOf(text: string): Promise<CwlCommandLineTool> {
	const loaded = await loadCwl("file:///docs/tool.cwl", { read: async () => text });
	return loaded.process as CwlCommandLineTool;
}

/** An ended invocation of `tool` whose output directory is `out` (only what collecting reads). */
function invocationOf(tool: CwlCommandLineTool): Invocation {
	return {
		key: "tool",
		tool,
		scopes: [tool],
		inputs: {},
		runtime: { outdir: out, tmpdir: join(root, "tmp"), cores: 1, ram: 1024 },
		jobDir: join(root, "job"),
		request: {} as Invocation["request"],
	};
}

/** The real workspace files, listing a directory as if it held `count` more files named `f0`, `f1`, …. */
function withManyFiles(real: WorkspaceFiles, dir: string, count: number): WorkspaceFiles {
	return {
		...real,
		stat: async (path) => (path.startsWith(`${dir}/f`) ? { isDirectory: false, size: 0 } : real.stat(path)),
		list: async (path) => {
			const entries = await real.list(path);
			if (path !== dir) return entries;
			return [...entries, ...Array.from({ length: count }, (_, i) => ({ name: `f${i}`, isDirectory: false }))];
		},
		once: () => withManyFiles(real.once(), dir, count),
	};
}

describe("output glob limits", () => {
	test("matches a pattern that makes regular expressions backtrack in linear time", async () => {
		writeFileSync(join(out, "a".repeat(70)), "");
		const started = performance.now();
		expect(globSegmentMatcher("*a*a*a*a*a*a*b", "w")("a".repeat(70))).toBe(false);
		expect(await globOutputs("*a*a*a*a*a*a*b", out, files)).toEqual([]);
		expect(await globOutputs("*a*a*a*a*a*a*", out, files)).toEqual([join(out, "a".repeat(70))]);
		expect(performance.now() - started).toBeLessThan(1000);
	});

	test("keeps POSIX glob rules: classes, braces, escapes and hidden files", () => {
		const m = (p: string, name: string) => globSegmentMatcher(p, "w")(name);
		expect(m("[!a].txt", "b.txt")).toBe(true);
		expect(m("[a-c]?.{txt,csv}", "b1.csv")).toBe(true);
		expect(m("{1..3}.txt", "2.txt")).toBe(true);
		expect(m("a\\*", "a*")).toBe(true);
		expect(m("a\\*", "ab")).toBe(false);
		expect(m("*", ".hidden")).toBe(false);
		expect(m(".*", ".hidden")).toBe(true);
		expect(m("*.*", "b.")).toBe(true);
	});

	test("refuses a glob matching more paths than the limit, naming the output", async () => {
		const many = withManyFiles(files, out, MAX_GLOB_MATCHES + 1);
		await expect(globOutputs("*", out, many, "tool.cwl:7: outputs.many.outputBinding.glob")).rejects.toThrow(
			/^tool\.cwl:7: outputs\.many\.outputBinding\.glob: '\*' matches more than 100000 paths/,
		);
	});

	test("refuses an output whose patterns together match more paths than the limit", async () => {
		const tool = await toolOf(`cwlVersion: v1.2
class: CommandLineTool
inputs: []
outputs:
  many: {type: "File[]", outputBinding: {glob: ["f1*", "f*"]}}
`);
		const env = runEnvironment(withManyFiles(files, out, MAX_GLOB_MATCHES));
		await expect(collectOutputs(invocationOf(tool), 0, env)).rejects.toThrow(
			/tool\.cwl:5: outputs\.many\.outputBinding\.glob: the patterns of the output 'many' match more than 100000 paths/,
		);
	});
});

describe("cwl.output.json limits", () => {
	test("refuses a cwl.output.json larger than the limit without reading it", async () => {
		const tool = await toolOf("cwlVersion: v1.2\nclass: CommandLineTool\ninputs: []\noutputs: []\n");
		const json = join(out, "cwl.output.json");
		writeFileSync(json, "{}");
		truncateSync(json, MAX_OUTPUT_JSON_BYTES + 1); // sparse: no disk or memory used
		await expect(collectOutputs(invocationOf(tool), 0, runEnvironment(files))).rejects.toThrow(
			/^tool\.cwl:\d+: outputs: the tool wrote a cwl\.output\.json of 67108865 bytes, more than the limit of 67108864/,
		);
	});

	test("still reads a small cwl.output.json", async () => {
		const tool = await toolOf("cwlVersion: v1.2\nclass: CommandLineTool\ninputs: []\noutputs: {n: int}\n");
		writeFileSync(join(out, "cwl.output.json"), '{"n": 3}');
		expect(await collectOutputs(invocationOf(tool), 0, runEnvironment(files))).toEqual({ n: 3 });
	});
});
