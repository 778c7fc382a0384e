// Bundles the compiled CLI and server (dist/main.js and what it imports) into dist/bundle/, which
// bin/orrery.js prefers: Node's module loader then reads a few dozen files instead of ~1,500, and
// every `orrery` command starts ~0.3 s sooner. Native and heavy, lazily loaded packages stay outside
// (better-sqlite3, pg, pino's worker, the Kubernetes client, the AWS SDK). `node src/bundle-cli.js`
// after `tsc`; without rolldown (a production install), nothing is bundled and dist/main.js is used.
import { rm } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const outDir = resolve(root, "dist/bundle");
let rolldown;
try {
	({ rolldown } = await import("rolldown"));
} catch {
	console.warn("rolldown is not installed: the CLI runs from dist/main.js, unbundled");
	process.exit(0);
}
await rm(outDir, { recursive: true, force: true });
const external = [/^better-sqlite3/, /^pg($|\/)/, /^pg-/, /^pino/, /^thread-stream/, /^@kubernetes\//, /^@aws-sdk\//];
const bundle = await rolldown({
	input: resolve(root, "dist/main.js"),
	platform: "node",
	external,
	logLevel: "warn",
});
await bundle.write({ dir: outDir, format: "esm", sourcemap: false });
await bundle.close();
