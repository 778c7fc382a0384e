import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { FastifyInstance } from "fastify";
import { AppError } from "../../common/index.js";
import { apiVersion } from "../../contract/index.js";
import { findUserById, listJobs } from "../../db/index.js";
import { runCrate } from "../provenance/run-crate.js";
import { handle } from "../route-kit.js";
import type { ServerContext } from "../server-context.js";
import { runFor } from "./workflow-routes.js";

let version: string | undefined;

/** Orrery's version from its package.json (found upwards from this module, in the sources, the build or the bundle). */
export function orreryVersion(): string {
	if (version !== undefined) return version;
	let dir = dirname(fileURLToPath(import.meta.url));
	for (let i = 0; i < 6; i++) {
		try {
			const pkg = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as { name?: string; version?: string };
			if (pkg.name === "orrery" && pkg.version) {
				version = pkg.version;
				return version;
			}
		} catch {
			// no package.json here: look one folder up
		}
		dir = dirname(dir);
	}
	version = apiVersion.orrery;
	return version;
}

/** A run's provenance as an RO-Crate metadata document (docs/provenance.md). */
export function provenanceRoutes(app: FastifyInstance, ctx: ServerContext): void {
	handle(app, "get_workflow_provenance", async ({ principal, params }, reply) => {
		const run = await runFor(ctx, principal, params.workflow_id_or_name, "workflow.read");
		const owner = await findUserById(ctx.db, run.owner_id);
		if (!owner)
			throw new AppError("not_found", `the owner of workflow '${params.workflow_id_or_name}' no longer exists`);
		// The files are read and hashed while the client waits: a client that goes away ends the work.
		const abort = new AbortController();
		const onClose = () => {
			if (!reply.raw.writableFinished)
				abort.abort(new AppError("conflict", "the client closed the connection before the export was ready"));
		};
		reply.raw.once("close", onClose);
		try {
			return await runCrate({
				run,
				owner,
				jobs: await listJobs(ctx.db, run.id),
				orreryVersion: orreryVersion(),
				exportedAt: ctx.clock.now(),
				signal: abort.signal,
			});
		} finally {
			reply.raw.off("close", onClose);
		}
	});
}
