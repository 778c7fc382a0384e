import { createReadStream, type Stats } from "node:fs";
import { stat } from "node:fs/promises";
import { extname, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";

/** Where `npm run build` puts the web UI: dist/web at the package root, two levels above src/server and dist/server. */
export const defaultWebRoot = fileURLToPath(new URL("../../dist/web/", import.meta.url));

/** Options for serving the web UI. */
export interface StaticUiOptions {
	/** The folder of the built UI (default: defaultWebRoot). */
	root?: string;
}

const types: Record<string, string> = {
	".html": "text/html; charset=utf-8",
	".js": "text/javascript; charset=utf-8",
	".css": "text/css; charset=utf-8",
	".svg": "image/svg+xml",
	".png": "image/png",
	".ico": "image/x-icon",
	".json": "application/json",
	".txt": "text/plain; charset=utf-8",
	".woff2": "font/woff2",
	".map": "application/json",
	".webmanifest": "application/manifest+json",
};

// The UI talks only to its own origin; inline scripts and styles are not needed (React sets styles through the DOM).
const contentSecurityPolicy = [
	"default-src 'self'",
	"script-src 'self'",
	"style-src 'self'",
	"img-src 'self' blob: data:",
	"connect-src 'self'",
	"object-src 'none'",
	"base-uri 'none'",
	"form-action 'self'",
	"frame-ancestors 'none'",
].join("; ");

const notBuiltPage = `<!doctype html><html lang="en"><meta charset="utf-8"><title>Orrery</title>
<h1>The web interface is not built</h1><p>Run <code>npm run build</code> in the Orrery folder, then reload.
The API answers under <a href="/api/ping">/api</a>.</p></html>`;

/**
 * Serves the built web UI at `/`: fingerprinted files under /assets/ are cached for a year, everything else
 * is revalidated; precompressed `.br`/`.gz` copies are sent when the browser accepts them; any other page
 * address gets index.html so the UI's own routes work on reload. Paths under /api stay the API's (its 404).
 */
export function installStaticUi(app: FastifyInstance, options: StaticUiOptions = {}): void {
	const root = resolve(options.root ?? defaultWebRoot);
	app.get("/*", { schema: { hide: true }, config: { isPublic: true } }, async (request, reply) => {
		const pathname = decodedPath(request.url);
		if (pathname === undefined) return reply.callNotFound();
		if (pathname === "/api" || pathname.startsWith("/api/")) return reply.callNotFound();
		const file = resolve(root, `.${pathname}`);
		if (file !== root && !file.startsWith(root + sep)) return reply.callNotFound();
		const found = await stat(file).catch(() => undefined);
		if (found?.isFile()) return sendFile(request, reply, file, found, pathname.startsWith("/assets/"));
		if (pathname.startsWith("/assets/") || !wantsPage(request, pathname)) return reply.callNotFound();
		const index = resolve(root, "index.html");
		const page = await stat(index).catch(() => undefined);
		if (!page?.isFile()) {
			return reply.status(503).type("text/html; charset=utf-8").header("cache-control", "no-store").send(notBuiltPage);
		}
		return sendFile(request, reply, index, page, false);
	});
}

/** The URL's path, percent-decoded; undefined when it is malformed or holds a NUL. */
function decodedPath(url: string): string | undefined {
	try {
		const path = decodeURIComponent((url.split("?")[0] ?? "/").split("#")[0] ?? "/");
		return path.includes("\0") ? undefined : path;
	} catch {
		return undefined;
	}
}

/** A browser navigating to a UI address (not a missing script, image or data file). */
function wantsPage(request: FastifyRequest, pathname: string): boolean {
	if ((request.headers.accept ?? "").includes("text/html")) return true;
	return extname(pathname) === "";
}

async function sendFile(
	request: FastifyRequest,
	reply: FastifyReply,
	file: string,
	stats: Stats,
	isFingerprinted: boolean,
): Promise<FastifyReply> {
	const ext = extname(file);
	const accepted = String(request.headers["accept-encoding"] ?? "");
	let body = file;
	let encoding: "br" | "gzip" | undefined;
	let size = stats.size;
	for (const [name, suffix] of [
		["br", ".br"],
		["gzip", ".gz"],
	] as const) {
		if (!accepted.includes(name)) continue;
		const packed = await stat(file + suffix).catch(() => undefined);
		if (!packed?.isFile()) continue;
		body = file + suffix;
		encoding = name;
		size = packed.size;
		break;
	}
	// Each encoding is a different body, so it gets its own validator.
	const tag = `W/"${stats.size.toString(16)}-${Math.floor(stats.mtimeMs).toString(16)}${encoding ? `-${encoding}` : ""}"`;
	reply
		.header("content-type", types[ext] ?? "application/octet-stream")
		.header("cache-control", isFingerprinted ? "public, max-age=31536000, immutable" : "no-cache")
		.header("etag", tag)
		.header("last-modified", stats.mtime.toUTCString())
		.header("x-content-type-options", "nosniff")
		.header("vary", "accept-encoding");
	if (ext === ".html") {
		reply
			.header("content-security-policy", contentSecurityPolicy)
			.header("referrer-policy", "no-referrer")
			.header("x-frame-options", "DENY");
	}
	if (request.headers["if-none-match"] === tag) return reply.status(304).send();
	if (encoding) reply.header("content-encoding", encoding);
	reply.header("content-length", String(size));
	return reply.send(createReadStream(body));
}
