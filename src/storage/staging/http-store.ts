import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from "node:http";
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";
import { Readable } from "node:stream";
import { AppError, newId } from "../../common/index.js";
import type { AddressGuard } from "./address-guard.js";
import { partialName, type RemoteBody, type RemoteEntry, type RemoteStore } from "./remote-store.js";
import type { RemoteLocation } from "./remote-url.js";
import { bearerSecretName, bearerTokenFor, type StagingSecrets } from "./staging-credentials.js";
import { parseMultistatus, propfindBody } from "./webdav-listing.js";

interface Sent {
	method: string;
	headers?: Record<string, string>;
	body?: () => Readable;
	signal: AbortSignal;
}

type Verb = "read" | "list" | "write";

/** HTTP(S) downloads and WebDAV (dCache, Nextcloud, …) folders and uploads, with bearer tokens from the user's secrets. */
export class HttpStore implements RemoteStore {
	/** A WebDAV server gives a Digest only when it wants to. */
	readonly capabilities = { keepsChecksums: false } as const;
	private readonly agents: { http: HttpAgent; https: HttpsAgent };
	private readonly checkedHosts = new Set<string>();

	constructor(
		private readonly guard: AddressGuard,
		private readonly secrets: StagingSecrets,
		concurrency: number,
	) {
		const options = { keepAlive: true, maxSockets: Math.max(8, concurrency * 2), lookup: guard.lookup() as never };
		this.agents = { http: new HttpAgent(options), https: new HttpsAgent(options) };
	}

	async list(loc: RemoteLocation, signal: AbortSignal): Promise<RemoteEntry[]> {
		if (!loc.isFolder) {
			const one = await this.stat(loc.url, signal);
			if (!one) throw new AppError("not_found", `${loc.url} does not exist`);
			return [one];
		}
		const root = new URL(wire(loc.url));
		const out: RemoteEntry[] = [];
		const folders = [root.href];
		// Each folder once, and only folders of this server below the root: an answer that names a
		// parent, another host or a folder seen before cannot make the walk go round.
		const visited = new Set([folderKey(root)]);
		while (folders.length > 0) {
			const folder = folders.shift() as string;
			const res = await this.send(folder, loc.url, "list", {
				method: "PROPFIND",
				headers: { depth: "1", "content-type": "application/xml; charset=utf-8" },
				body: () => Readable.from([Buffer.from(propfindBody)]),
				signal,
			});
			for (const e of parseMultistatus(await text(res), folder)) {
				const u = new URL(e.url);
				if (trimSlash(u.pathname) === trimSlash(new URL(folder).pathname)) continue;
				if (u.origin !== root.origin || !u.pathname.startsWith(root.pathname)) continue;
				if (e.isCollection) {
					if (visited.has(folderKey(u))) continue;
					visited.add(folderKey(u));
					if (visited.size > 100_000) throw new AppError("validation_failed", `${loc.url} holds too many folders`);
					u.pathname = `${trimSlash(u.pathname)}/`;
					folders.push(u.href);
				} else {
					const relative = decodeURIComponent(u.pathname.slice(root.pathname.length));
					out.push({ url: original(loc.url, e.url), relative, size: e.size, modified: e.modified });
				}
				if (out.length > 1_000_000) throw new AppError("validation_failed", `${loc.url} holds too many files`);
			}
		}
		if (out.length === 0) throw new AppError("not_found", `there are no files under ${loc.url}`);
		return out;
	}

	async open(url: string, signal: AbortSignal): Promise<RemoteBody> {
		const res = await this.send(url, url, "read", { method: "GET", signal });
		return { body: res, size: lengthOf(res), modified: modifiedOf(res) };
	}

	async stat(url: string, signal: AbortSignal): Promise<RemoteEntry | undefined> {
		const res = await this.send(
			url,
			url,
			"read",
			{ method: "HEAD", headers: { "want-digest": "SHA-256" }, signal },
			[404],
		);
		res.resume();
		if (res.statusCode === 404) return undefined;
		const digest = /sha-256=([A-Za-z0-9+/=]+)/i.exec(String(res.headers.digest ?? ""))?.[1];
		return {
			url,
			relative: "",
			size: lengthOf(res),
			modified: modifiedOf(res),
			sha256: digest ? Buffer.from(digest, "base64").toString("hex") : undefined,
		};
	}

	async put(
		url: string,
		body: () => Readable,
		size: number,
		_sha256: string,
		signal: AbortSignal,
		owner?: string,
	): Promise<void> {
		await this.makeFolders(url, signal);
		const u = new URL(url);
		const name = u.pathname.split("/").pop() ?? "file";
		const temp = new URL(partialName(`.${name}`, owner, newId()), u).href;
		(
			await this.send(temp, url, "write", {
				method: "PUT",
				headers: { "content-length": String(size), "content-type": "application/octet-stream" },
				body,
				signal,
			})
		).resume();
		try {
			const res = await this.send(temp, url, "write", {
				method: "MOVE",
				headers: { destination: wire(url), overwrite: "T" },
				signal,
			});
			res.resume();
		} catch (error) {
			await this.send(temp, url, "write", { method: "DELETE", signal }).then(
				(r) => r.resume(),
				() => undefined,
			);
			throw error;
		}
	}

	async remove(url: string, signal: AbortSignal): Promise<void> {
		(await this.send(url, url, "write", { method: "DELETE", signal }, [404])).resume();
	}

	async readText(url: string, signal: AbortSignal): Promise<string | undefined> {
		const res = await this.send(url, url, "read", { method: "GET", signal }, [404]);
		if (res.statusCode === 404) {
			res.resume();
			return undefined;
		}
		return text(res);
	}

	close(): void {
		this.agents.http.destroy();
		this.agents.https.destroy();
	}

	/** Creates the folders above a file (MKCOL from the top; existing ones answer 405). */
	private async makeFolders(url: string, signal: AbortSignal): Promise<void> {
		const u = new URL(url);
		const parts = u.pathname.split("/").filter(Boolean).slice(0, -1);
		let path = "/";
		for (const p of parts) {
			path += `${p}/`;
			const folder = new URL(path, u).href;
			const res = await this.send(folder, url, "write", { method: "MKCOL", signal }, [301, 405, 409]);
			res.resume();
		}
	}

	/** One request with redirects followed, the host checked, and errors turned into messages. */
	private async send(
		url: string,
		display: string,
		verb: Verb,
		sent: Sent,
		expected: number[] = [],
	): Promise<IncomingMessage> {
		let target = new URL(wire(url));
		const origin = target.origin;
		const host = target.host;
		const token = bearerTokenFor(host, this.secrets);
		for (let hop = 0; hop < 6; hop++) {
			if (!this.checkedHosts.has(target.host)) {
				await this.guard.check(target.hostname, display);
				this.checkedHosts.add(target.host);
			}
			// The token goes only where the spec's URL points (scheme, host and port): a redirect to
			// another host, port or to plain http never carries it.
			const sentToken = target.origin === origin ? token : undefined;
			const res = await this.once(target, sent, sentToken);
			const status = res.statusCode ?? 500;
			const location = res.headers.location;
			if ([301, 302, 303, 307, 308].includes(status) && location && !expected.includes(status)) {
				res.resume();
				if (sent.method === "PUT" && status !== 307 && status !== 308) break;
				target = new URL(location, target);
				if (target.protocol !== "https:" && target.protocol !== "http:") break;
				continue;
			}
			if ((status >= 200 && status < 300) || expected.includes(status)) return res;
			res.resume();
			if ((status === 401 || status === 403) && token !== undefined && sentToken === undefined) {
				throw new AppError(
					"forbidden",
					`${display} redirects to ${target.origin}, which refused it (HTTP ${status}); the token in ${bearerSecretName(host)} is sent only to ${origin}: give the URL of the other host in reana.yaml`,
				);
			}
			throw this.failure(status, display, verb, host, sentToken !== undefined);
		}
		throw new AppError("validation_failed", `${display}: too many or unusable redirects`);
	}

	private once(target: URL, sent: Sent, token: string | undefined): Promise<IncomingMessage> {
		const send = target.protocol === "https:" ? httpsRequest : httpRequest;
		const agent = target.protocol === "https:" ? this.agents.https : this.agents.http;
		return new Promise((done, fail) => {
			const req = send(
				target,
				{
					method: sent.method,
					agent,
					signal: sent.signal,
					headers: { ...(sent.headers ?? {}), ...(token ? { authorization: `Bearer ${token}` } : {}) },
				},
				done,
			);
			req.on("error", (cause) => {
				if (cause instanceof AppError || cause.name === "AbortError") return fail(cause);
				fail(
					new AppError("backend_unavailable", `cannot reach ${target.host}: ${cause.message}`, {
						cause,
						retryable: true,
					}),
				);
			});
			if (sent.body) {
				const body = sent.body();
				body.on("error", (error) => req.destroy(error));
				body.pipe(req);
			} else req.end();
		});
	}

	private failure(status: number, url: string, verb: Verb, host: string, hadToken: boolean): AppError {
		const secret = bearerSecretName(host);
		const action = verb === "write" ? "write to" : verb === "list" ? "list" : "read";
		if (status === 401) {
			return new AppError(
				"forbidden",
				hadToken
					? `permission denied: ${host} refused the token in the secret ${secret} to ${action} ${url} (HTTP 401); it may lack that permission or have expired`
					: `${url} needs authentication: add a bearer token as the secret ${secret} (orrery secrets add --env ${secret}=…)`,
			);
		}
		if (status === 403) {
			return new AppError(
				"forbidden",
				`permission denied: ${hadToken ? `the token in ${secret}` : "an anonymous request"} may not ${action} ${url}${hadToken ? "" : `; add a token as the secret ${secret}`}`,
			);
		}
		if (status === 404 || status === 410) return new AppError("not_found", `${url} does not exist`);
		if (status === 405 || status === 501) {
			return new AppError(
				"validation_failed",
				`${host} does not support this operation on ${url} (HTTP ${status}); is it a WebDAV server?`,
			);
		}
		if (status === 507) return new AppError("forbidden", `${host} has no space left for ${url} (HTTP 507)`);
		const retryable = status >= 500 || status === 429 || status === 408;
		return new AppError(
			retryable ? "backend_unavailable" : "validation_failed",
			`${host} answered HTTP ${status} for ${url}`,
			{
				retryable,
			},
		);
	}
}

/** dav:// and davs:// are http:// and https:// on the wire. */
function wire(url: string): string {
	return url.replace(/^davs:/i, "https:").replace(/^dav:/i, "http:");
}

/** The URL of a listed entry in the scheme the user wrote. */
function original(base: string, url: string): string {
	const scheme = /^([a-z]+):/i.exec(base)?.[1] ?? "https";
	return url.replace(/^[a-z]+:/i, `${scheme}:`);
}

/** A folder's identity however a server spells its URL (escapes, trailing slash, query). */
function folderKey(u: URL): string {
	const path = trimSlash(u.pathname);
	try {
		return decodeURIComponent(path);
	} catch {
		return path;
	}
}

function trimSlash(p: string): string {
	return p.replace(/\/+$/, "");
}

function lengthOf(res: IncomingMessage): number | undefined {
	const v = res.headers["content-length"];
	return v === undefined ? undefined : Number(v);
}

function modifiedOf(res: IncomingMessage): Date | undefined {
	const d = new Date(res.headers["last-modified"] ?? "");
	return Number.isNaN(d.getTime()) ? undefined : d; // a date that does not parse is no date
}

async function text(res: IncomingMessage): Promise<string> {
	const chunks: Buffer[] = [];
	for await (const c of res) chunks.push(c as Buffer);
	return Buffer.concat(chunks).toString("utf8");
}
