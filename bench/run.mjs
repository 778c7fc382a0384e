#!/usr/bin/env node
// Compiles the benchmarks (TypeScript) and runs one: `npm run bench -- <name> [args]`.
import { execFileSync, spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const [name, ...args] = process.argv.slice(2);
const available = readdirSync(join(root, "bench"))
	.filter((f) => f.endsWith(".ts") && !f.startsWith("bench-"))
	.map((f) => f.replace(/\.ts$/, ""));
if (!name || !available.includes(name)) {
	console.error(`usage: npm run bench -- <${available.join("|")}> [args]`);
	process.exit(64);
}
try {
	execFileSync(
		process.execPath,
		[join(root, "node_modules/typescript/bin/tsc"), "-p", join(root, "bench/tsconfig.json")],
		{ stdio: "inherit" },
	);
} catch {
	// tsc still emits JavaScript on type errors; run anyway, the errors are printed above.
	console.error("warning: the benchmarks compiled with type errors (see above)");
}
const r = spawnSync(process.execPath, [join(root, ".bench-build/bench", `${name}.js`), ...args], { stdio: "inherit" });
process.exit(r.status ?? 1);
