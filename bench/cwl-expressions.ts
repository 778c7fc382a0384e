// What a CWL expression costs: the engine's `evaluate` (JavaScript runs in the expression worker,
// a synchronous round trip; a plain parameter reference is resolved in the server) against the same
// wrapper run by node:vm in the server's own thread with the same time limit (how expressions ran
// before the worker, without its memory limit). Medians of 5 rounds.
// Usage: npm run bench -- cwl-expressions [N=20000]
import { createContext, Script } from "node:vm";
import { evaluate } from "../src/engines/cwl/expression-evaluator.js";
import { median, now, printTable } from "./bench-kit.js";

const n = Number(process.argv[2] ?? 20_000);
const inputs = { n: 3, reads: { class: "File", path: "/data/reads.fq", basename: "reads.fq", size: 1024 } };
const scope = { inputs, self: null, runtime: { cores: 2, outdir: "/out" }, where: "bench.cwl:1: arguments" };
const js = { ...scope, javascript: [] as string[] };

/** The expression worker's wrapper, run in this thread. */
function inThread(code: string): () => unknown {
	const context = createContext(Object.create(null), { codeGeneration: { strings: false, wasm: false } });
	const script = new Script(
		`(function(){var inputs=JSON.parse(__in0),self=JSON.parse(__in1),runtime=JSON.parse(__in2);var __r=(function(){return (${code});\n})();return JSON.stringify([__r===undefined?null:__r]);})()`,
	);
	const ctx = context as Record<string, unknown>;
	return () => {
		ctx.__in0 = JSON.stringify(scope.inputs);
		ctx.__in1 = JSON.stringify(scope.self);
		ctx.__in2 = JSON.stringify(scope.runtime);
		return JSON.parse(script.runInContext(context, { timeout: 30_000 }) as string)[0];
	};
}

function perCallMicroseconds(run: () => unknown): number {
	run();
	const rounds: number[] = [];
	for (let r = 0; r < 5; r++) {
		const t = now();
		for (let i = 0; i < n; i++) run();
		rounds.push(((now() - t) * 1000) / n);
	}
	return median(rounds);
}

const cases: Array<[string, string]> = [
	["JavaScript `$(inputs.n * 2)`", "inputs.n * 2"],
	["parameter reference `$(inputs.reads.path)`", "inputs.reads.path"],
];
const rows: Array<Array<string | number>> = [];
for (const [label, code] of cases) {
	const worker = perCallMicroseconds(() => evaluate(`$(${code})`, js));
	const thread = perCallMicroseconds(inThread(code));
	rows.push([label, worker, thread, worker / thread]);
}
printTable(
	`One CWL expression, ${n} evaluations × 5 rounds (medians, µs per evaluation)`,
	["expression (InlineJavascriptRequirement)", "evaluate (worker)", "node:vm in the server's thread", "ratio"],
	rows,
);
process.exit(0);
