import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import { Transform } from "node:stream";
import { AppError } from "../../common/index.js";
import { isGlob, listFiles, walkFiles } from "../workspace-files.js";
import { normaliseUserPath, resolveInWorkspace } from "../workspace-path.js";
import { isPartialName, type RemoteStore } from "./remote-store.js";
import { childUrl, parseRemoteUrl, type RemoteLocation } from "./remote-url.js";
import { textBody } from "./s3-store.js";
import { sha256File } from "./stage-in.js";
import type { EndpointOptions } from "./staging-credentials.js";
import type { StagingSession } from "./staging-session.js";
import { runPool, withRetries } from "./transfer-pool.js";

/** One workspace file to publish. */
export interface PublishFile {
	absolute: string;
	/** Its name below the target (the workspace path). */
	name: string;
	size: number;
}

/** The name of the checksum manifest written beside published outputs, last (`sha256sum -c` reads it). */
export const manifestName = "SHA256SUMS";

/** The files declared outputs stand for: files, folders (everything below) and globs; a missing one is an error. */
export async function outputFiles(workspace: string, declared: readonly string[]): Promise<PublishFile[]> {
	const out = new Map<string, PublishFile>();
	for (const raw of declared) {
		const clean = normaliseUserPath(raw);
		if (!clean) continue;
		if (isGlob(clean)) {
			for (const f of await listFiles(workspace, clean))
				out.set(f.name, { absolute: await resolveInWorkspace(workspace, f.name), name: f.name, size: f.size });
			continue;
		}
		const abs = await resolveInWorkspace(workspace, clean);
		const s = await stat(abs).catch(() => undefined);
		if (!s) throw new AppError("validation_failed", `the declared output ${clean} does not exist in the workspace`);
		if (s.isFile()) out.set(clean, { absolute: abs, name: clean, size: s.size });
		else
			for await (const f of walkFiles(workspace, clean))
				out.set(f.name, { absolute: await resolveInWorkspace(workspace, f.name), name: f.name, size: f.size });
	}
	return [...out.values()].sort((a, b) => (a.name < b.name ? -1 : 1));
}

/** Options of a publication. */
export interface PublishOptions {
	signal: AbortSignal;
	endpoint: EndpointOptions;
	/** Told after each file, uploaded or found already there. */
	onFile?: (file: PublishFile, isSkipped: boolean) => void;
	onBytes?: (n: number) => void;
	/**
	 * Who publishes (a run's id): it names the temporary objects, and once the set is complete the
	 * ones an earlier, interrupted publication of the same owner left below the target are removed.
	 */
	owner?: string;
}

/**
 * Publishes files under a target folder URL: each file is written so it appears complete or not at
 * all; a file already there with the same size and checksum is left alone (a re-run uploads nothing
 * new). The previous manifest is removed before the first upload and the new one goes last, so a
 * manifest at the target always describes a complete set.
 */
export async function publishFiles(
	session: StagingSession,
	targetUrl: string,
	files: readonly PublishFile[],
	options: PublishOptions,
): Promise<{ uploaded: number; skipped: number; bytes: number; manifestUrl: string; removed: number }> {
	const folder = targetUrl.endsWith("/") ? targetUrl : `${targetUrl}/`;
	const loc = parseRemoteUrl(folder);
	const store = await session.storeFor(loc, options.endpoint);
	const retry = { retries: session.config.retries, signal: options.signal };
	const manifestUrl = childUrl(folder, manifestName);
	const previousText = await withRetries(() => store.readText(manifestUrl, options.signal), retry);
	const previous = parseManifest(previousText ?? "");
	// Removed once, before the first upload: readers never see the old manifest beside a changing set.
	let manifestRemoved: Promise<void> | undefined = previousText === undefined ? Promise.resolve() : undefined;
	const removeManifest = () => {
		manifestRemoved ??= withRetries(() => store.remove(manifestUrl, options.signal), retry);
		return manifestRemoved;
	};
	const sums = new Map<string, string>();
	let uploaded = 0;
	let skipped = 0;
	let bytes = 0;
	await runPool(
		files,
		session.config.concurrency,
		async (file) => {
			const sha = await sha256File(file.absolute);
			sums.set(file.name, sha);
			const url = childUrl(folder, file.name);
			const there = await withRetries(() => store.stat(url, options.signal), retry);
			// The object's own checksum decides where the store keeps one (another, failed publication may
			// have replaced it since the manifest was written); otherwise the manifest, which is only there
			// while the set it lists is complete. Unsure means upload.
			const isSame =
				there !== undefined &&
				there.size === file.size &&
				(there.sha256 !== undefined
					? there.sha256 === sha
					: !store.capabilities.keepsChecksums && previous.get(file.name) === sha);
			if (isSame) {
				skipped++;
				options.onFile?.(file, true);
				return;
			}
			await removeManifest();
			await withRetries(
				() =>
					store.put(
						url,
						() =>
							createReadStream(file.absolute, { highWaterMark: 1024 * 1024 }).pipe(
								new Transform({
									transform(chunk: Buffer, _encoding, done) {
										options.onBytes?.(chunk.length);
										done(null, chunk);
									},
								}),
							),
						file.size,
						sha,
						options.signal,
						options.owner,
					),
				retry,
			);
			uploaded++;
			bytes += file.size;
			options.onFile?.(file, false);
		},
		options.signal,
	);
	const manifest = [...sums]
		.sort(([a], [b]) => (a < b ? -1 : 1))
		.map(([name, sha]) => `${sha}  ${name}\n`)
		.join("");
	await withRetries(
		() => store.put(manifestUrl, textBody(manifest), Buffer.byteLength(manifest), "", options.signal, options.owner),
		retry,
	);
	const removed = options.owner === undefined ? 0 : await removeLeftovers(store, loc, options.owner, options.signal);
	return { uploaded, skipped, bytes, manifestUrl, removed };
}

/**
 * Removes the temporary objects an owner's interrupted publication left below a folder (a server
 * killed between an upload and its rename). Only that owner's: another run may be writing its own.
 * Best effort: the outputs are published whatever happens here.
 */
async function removeLeftovers(
	store: RemoteStore,
	loc: RemoteLocation,
	owner: string,
	signal: AbortSignal,
): Promise<number> {
	try {
		const leftovers = (await store.list(loc, signal)).filter((e) => isPartialName(e.relative, owner));
		for (const e of leftovers) await store.remove(e.url, signal);
		return leftovers.length;
	} catch {
		return 0;
	}
}

/** Reads a `sha256sum` manifest into name → checksum. */
export function parseManifest(text: string): Map<string, string> {
	const out = new Map<string, string>();
	for (const line of text.split("\n")) {
		const m = /^([0-9a-f]{64}) [ *](.+)$/.exec(line.trim());
		if (m) out.set(m[2] as string, m[1] as string);
	}
	return out;
}
