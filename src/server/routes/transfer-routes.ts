import { stat } from "node:fs/promises";
import type { FastifyInstance } from "fastify";
import { AppError } from "../../common/index.js";
import { extractTar, resolveInWorkspace, runPool, sha256File } from "../../storage/index.js";
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
				const s = abs ? await stat(abs).catch(() => undefined) : undefined;
				if (!abs || !s?.isFile()) return;
				const entry = out[i] as (typeof out)[number];
				entry.size = s.size;
				if (f.size === undefined || f.size === s.size) entry.sha256 = await sha256File(abs);
			},
			new AbortController().signal,
		);
		return { files: out };
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
