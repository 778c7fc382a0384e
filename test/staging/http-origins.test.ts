import { mkdtempSync, readFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { StagingConfig } from "../../src/config/index.js";
import { expandRemoteInput, StagingSession, stageFile } from "../../src/storage/index.js";

const signal = new AbortController().signal;
const config: StagingConfig = {
	allowPrivateNetworks: true,
	fileRoots: [],
	concurrency: 2,
	retries: 0,
	endpoints: [],
	defaultEndpoint: undefined,
};

/** A plain HTTP server on a free loopback port; returns its base URL. */
async function listen(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<[Server, string]> {
	const server = createServer(handler);
	await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
	return [server, `http://127.0.0.1:${(server.address() as AddressInfo).port}`];
}

const davEntry = (href: string, isCollection: boolean, size = 0) =>
	`<D:response><D:href>${href}</D:href><D:propstat><D:prop><D:resourcetype>${isCollection ? "<D:collection/>" : ""}</D:resourcetype>${isCollection ? "" : `<D:getcontentlength>${size}</D:getcontentlength>`}</D:prop></D:propstat></D:response>`;

// Redirects and odd PROPFIND answers are what a misbehaving or hostile server sends; these test-local
// servers speak the real HTTP and WebDAV wire format (webdav-server cannot be made to answer them).
describe("HTTP staging with test-local servers that redirect and answer PROPFIND with loops", () => {
	const seen: Record<string, Array<string | undefined>> = { door: [], pool: [] };
	let propfinds = 0;
	let door: Server;
	let pool: Server;
	let doorUrl: string;
	let poolUrl: string;
	let session: StagingSession;

	beforeAll(async () => {
		[pool, poolUrl] = await listen((req, res) => {
			seen.pool?.push(req.headers.authorization);
			res.writeHead(200, { "content-length": "5" }).end("POOL\n");
		});
		[door, doorUrl] = await listen((req, res) => {
			seen.door?.push(req.headers.authorization);
			if (req.method === "PROPFIND") {
				if (++propfinds > 20) return void res.writeHead(500).end();
				const entries =
					req.url === "/data/"
						? [
								davEntry("/data/", true),
								davEntry("/", true), // the parent
								davEntry("/data/sub/", true),
								davEntry("/data/a.txt", false, 5),
								davEntry(`${poolUrl}/data/elsewhere/`, true), // another port
								davEntry(`${poolUrl}/data/b.txt`, false, 5),
							]
						: [
								davEntry("/data/sub/", true),
								davEntry("/data/", true), // back up: a loop
								davEntry("/data/%73ub/", true), // itself, spelt otherwise
								davEntry("/data/sub/c.txt", false, 5),
							];
				res.writeHead(207, { "content-type": "application/xml" });
				return void res.end(`<?xml version="1.0"?><D:multistatus xmlns:D="DAV:">${entries.join("")}</D:multistatus>`);
			}
			if (req.url === "/moved.txt") return void res.writeHead(302, { location: `${poolUrl}/moved.txt` }).end();
			if (req.url === "/undated.txt")
				return void res.writeHead(200, { "content-length": "5", "last-modified": "yesterday-ish" }).end("DOOR\n");
			res.writeHead(200, { "content-length": "5" }).end("DOOR\n");
		});
		session = new StagingSession(config, { env: { BEARER_TOKEN_127_0_0_1: "secret-token" }, files: {} });
	});
	afterAll(async () => {
		session.close();
		await new Promise((done) => door.close(done));
		await new Promise((done) => pool.close(done));
	});

	it("sends the bearer token to the URL's host and port but not along a redirect to another port", async () => {
		const ws = mkdtempSync(join(tmpdir(), "orrery-http-origins-"));
		seen.door = [];
		seen.pool = [];
		await stageFile(session, { url: `${doorUrl}/moved.txt`, path: "moved.txt", options: {} }, ws, { signal });
		expect(readFileSync(join(ws, "moved.txt"), "utf8")).toBe("POOL\n");
		expect(seen.door).toEqual(["Bearer secret-token"]);
		expect(seen.pool).toEqual([undefined]);
	});

	it("stages a file whose Last-Modified does not parse, as a file without a date", async () => {
		const ws = mkdtempSync(join(tmpdir(), "orrery-http-origins-"));
		const result = await stageFile(session, { url: `${doorUrl}/undated.txt`, path: "undated.txt", options: {} }, ws, {
			signal,
		});
		expect(result.isSkipped).toBe(false);
		expect(readFileSync(join(ws, "undated.txt"), "utf8")).toBe("DOOR\n");
	});

	it("walks a WebDAV folder once per folder, only below the root and on the same server", async () => {
		propfinds = 0;
		const files = await expandRemoteInput(
			session,
			{ url: `${doorUrl.replace("http:", "dav:")}/data/`, path: "in", options: {} },
			signal,
		);
		expect(files.map((f) => [f.path, f.url]).sort()).toEqual([
			["in/a.txt", `${doorUrl.replace("http:", "dav:")}/data/a.txt`],
			["in/sub/c.txt", `${doorUrl.replace("http:", "dav:")}/data/sub/c.txt`],
		]);
		expect(propfinds).toBe(2);
	});
});
