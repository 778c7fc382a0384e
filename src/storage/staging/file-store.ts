import { createReadStream } from "node:fs";
import { readdir, realpath, stat } from "node:fs/promises";
import { join, relative } from "node:path";
import { pathToFileURL } from "node:url";
import { AppError } from "../../common/index.js";
import { isInside } from "../workspace-path.js";
import type { RemoteBody, RemoteEntry, RemoteStore } from "./remote-store.js";
import type { RemoteLocation } from "./remote-url.js";

/** `file://` inputs from folders the administrator allows (ORRERY_STAGING_FILE_ROOTS); read-only. */
export class FileStore implements RemoteStore {
	/** Read-only: nothing is published here. */
	readonly capabilities = { keepsChecksums: false } as const;
	constructor(private readonly roots: readonly string[]) {}

	async list(loc: RemoteLocation, _signal: AbortSignal): Promise<RemoteEntry[]> {
		const path = await this.allowed(loc.path, loc.url);
		const s = await stat(path).catch(() => undefined);
		if (!s) throw new AppError("not_found", `${loc.url} does not exist`);
		if (!s.isDirectory()) return [{ url: loc.url, relative: "", size: s.size, modified: s.mtime }];
		const out: RemoteEntry[] = [];
		for (const e of await readdir(path, { recursive: true, withFileTypes: true })) {
			if (!e.isFile()) continue;
			const abs = join(e.parentPath, e.name);
			const fs = await stat(abs);
			const rel = relative(path, abs).split("\\").join("/");
			out.push({ url: pathToFileURL(abs).href, relative: rel, size: fs.size, modified: fs.mtime });
		}
		if (out.length === 0) throw new AppError("not_found", `there are no files under ${loc.url}`);
		return out;
	}

	async open(url: string, _signal: AbortSignal): Promise<RemoteBody> {
		const path = await this.allowed(decodeURIComponent(new URL(url).pathname), url);
		const s = await stat(path).catch(() => undefined);
		if (!s?.isFile()) throw new AppError("not_found", `${url} does not exist`);
		return { body: createReadStream(path), size: s.size, modified: s.mtime };
	}

	async stat(url: string, _signal: AbortSignal): Promise<RemoteEntry | undefined> {
		const path = await this.allowed(decodeURIComponent(new URL(url).pathname), url);
		const s = await stat(path).catch(() => undefined);
		return s?.isFile() ? { url, relative: "", size: s.size, modified: s.mtime } : undefined;
	}

	async put(url: string): Promise<void> {
		throw new AppError("validation_failed", `outputs cannot be published to ${url}; use s3:// or a WebDAV URL`);
	}

	async remove(url: string): Promise<void> {
		return this.put(url);
	}

	async readText(): Promise<string | undefined> {
		return undefined;
	}

	close(): void {}

	/** The real path of a file:// location, refused unless it lies in an allowed folder. */
	private async allowed(path: string, url: string): Promise<string> {
		const real = await realpath(path).catch(() => path);
		const roots = await Promise.all(this.roots.map((r) => realpath(r).catch(() => r)));
		if (!roots.some((r) => isInside(r, real))) {
			throw new AppError(
				"forbidden",
				this.roots.length === 0
					? `file:// inputs are not allowed on this server (${url}); an administrator can allow folders with ORRERY_STAGING_FILE_ROOTS`
					: `${url} is outside the folders file:// inputs may come from (${this.roots.join(", ")})`,
			);
		}
		return real;
	}
}
