import { createHash } from "node:crypto";
import { createReadStream, fstatSync } from "node:fs";
import { lstat, realpath } from "node:fs/promises";
import { join, posix } from "node:path";
import type { FastifyInstance } from "fastify";
import { type ArchiveFile, openFileWithin, tarStream } from "../../archive/index.js";
import { AppError } from "../../common/index.js";
import { extractTar, normaliseUserPath, resolveInWorkspace, runPool } from "../../storage/index.js";
import { humanSize } from "../human-size.js";
import { handle } from "../route-kit.js";
import type { ServerContext } from "../server-context.js";
import { runFor } from "./workflow-routes.js";

/** Orrery's extensions for large transfers: checksums for resumable copies, and many files in one tar upload. */
export function transferRoutes(app: FastifyInstance, ctx: ServerContext): void {
	handle(app, "get_file_digests", async ({ principal, params, body }) => {
		const wf = await runFor(ctx, principal, params.workflow_id_or_name, "workflow.read");
		const out = body.files.map((f) => ({ name: f.name, size: null as number | null, sha256: null as string | null }));
		// Only files whose size matches are hashed: a differing size already says "different".
		await runPool(
			body.files.map((f, i) => ({ f, i })),
			4,
			async ({ f, i }) => {
				const abs = await resolveInWorkspace(wf.workspace_path, f.name).catch(() => undefined);
				if (!abs) return;
				// Opened once, without following a link or waiting on a FIFO, and checked to lie in the
				// workspace: what is measured and hashed is that open file (a job may change the path meanwhile).
				let fd: number;
				try {
					fd = openFileWithin(abs, await realpath(wf.workspace_path), f.name);
				} catch {
					return;
				}
				const stream = createReadStream("", { fd, highWaterMark: 1024 * 1024 });
				try {
					const size = fstatSync(fd).size;
					const entry = out[i] as (typeof out)[number];
					entry.size = size;
					if (f.size !== undefined && f.size !== size) return;
					const hash = createHash("sha256");
					for await (const chunk of stream) hash.update(chunk as Buffer);
					entry.sha256 = hash.digest("hex");
				} finally {
					stream.destroy();
				}
			},
			new AbortController().signal,
		);
		return { files: out };
	});

	handle(app, "download_archive", async ({ principal, params, body }, reply) => {
		const wf = await runFor(ctx, principal, params.workflow_id_or_name, "workflow.read");
		// Every file is checked and measured before the first byte goes out: a missing one is a 404, not a cut archive.
		// Each folder is resolved once (symlinks checked); the files themselves must be regular files, not links.
		const files: ArchiveFile[] = [];
		const folders = new Map<string, Promise<string>>();
		const folderOf = (dir: string) => {
			const known = folders.get(dir);
			if (known !== undefined) return known;
			const p = resolveInWorkspace(wf.workspace_path, dir);
			folders.set(dir, p);
			return p;
		};
		await runPool(
			body.files.map((name, i) => ({ name, i })),
			8,
			async ({ name, i }) => {
				const clean = normaliseUserPath(name);
				const dir = posix.dirname(clean);
				const abs = join(await folderOf(dir === "." ? "" : dir), posix.basename(clean));
				const s = await lstat(abs).catch(() => undefined);
				if (!s?.isFile())
					throw new AppError("not_found", `'${clean}' is not a file in the workspace; list the files with 'orrery ls'`);
				files[i] = { local: abs, remote: clean, size: s.size, mtimeMs: s.mtimeMs };
			},
			new AbortController().signal,
		);
		// Each file is opened checked (`openFileWithin`): one swapped for a link, a FIFO or a device since is refused.
		const within = await realpath(wf.workspace_path);
		reply.header("Content-Type", "application/x-tar");
		return reply.send(tarStream(files, undefined, within));
	});

	handle(app, "upload_archive", async ({ principal, params, raw }) => {
		const wf = await runFor(ctx, principal, params.workflow_id_or_name, "workflow.write");
		if (wf.status === "deleted") throw new AppError("conflict", "the workflow is deleted");
		const { files, bytes } = await extractTar(wf.workspace_path, raw.raw, { maxBytes: ctx.config.maxUploadBytes });
		return {
			message: `${files} file${files === 1 ? "" : "s"} (${humanSize(bytes)}) unpacked into the workspace.`,
			files,
			bytes,
		};
	});
}
