// Builds the web UI with Vite into dist/web (no Vite config file: we keep named exports only),
// and writes gzip and brotli copies of text assets so the server sends them precompressed.
// `node src/web/build-web.js --dev` serves the UI with hot reload and proxies /api to ORRERY_SERVER_URL.
import { readdir, readFile, stat, writeFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { brotliCompressSync, constants, gzipSync } from "node:zlib";
import react from "@vitejs/plugin-react";
import { build, createServer } from "vite";

const root = dirname(fileURLToPath(import.meta.url));

/** Where the built UI goes: dist/web, served by src/server/static-ui.ts. */
export const webOutDir = resolve(root, "../../dist/web");

/** The Vite configuration of the UI, for a production build or the dev server. */
export function webConfig(serverUrl = "http://127.0.0.1:5000") {
	return {
		configFile: false,
		root,
		base: "/",
		logLevel: "warn",
		plugins: [react()],
		build: {
			outDir: webOutDir,
			emptyOutDir: true,
			target: "es2022",
			sourcemap: false,
			reportCompressedSize: false,
		},
		server: { proxy: { "/api": { target: serverUrl, changeOrigin: true } } },
	};
}

const compressible = /\.(js|css|html|svg|json|txt|map)$/;

/** Writes `.gz` and `.br` next to every text asset worth compressing. */
export async function precompress(dir) {
	for (const entry of await readdir(dir, { withFileTypes: true })) {
		const path = join(dir, entry.name);
		if (entry.isDirectory()) {
			await precompress(path);
			continue;
		}
		if (!compressible.test(entry.name) || (await stat(path)).size < 512) continue;
		const data = await readFile(path);
		await writeFile(`${path}.gz`, gzipSync(data, { level: 9 }));
		await writeFile(`${path}.br`, brotliCompressSync(data, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }));
	}
}

/** Builds the UI for production. */
export async function buildWeb() {
	await build(webConfig());
	await precompress(webOutDir);
}

/** Starts the Vite dev server for the UI. */
export async function serveWeb() {
	const server = await createServer(webConfig(process.env.ORRERY_SERVER_URL));
	await server.listen();
	server.printUrls();
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
	await (process.argv.includes("--dev") ? serveWeb() : buildWeb());
}
