import { AppError, isAppError, isoNow, messageOf } from "../common/index.js";
import { insertTransfers, listTransfers, type TransferRow, updateTransfers, type WorkflowRow } from "../db/index.js";
import { outputFiles, publishFiles, StagingSession } from "../storage/index.js";
import type { StagingPhaseDeps } from "./staging-phase.js";
import { endpointOptionsOf, publishedPathsOf, publishTargetsOf } from "./staging-plan.js";
import { mib, StagingMeter } from "./staging-progress.js";

/**
 * Publishes a successful run's outputs to each `outputs.publish` target that has not received them
 * yet: files first (each complete or absent), the SHA256SUMS manifest last.
 */
export async function publishOutputs(
	deps: StagingPhaseDeps,
	wf: WorkflowRow,
	planned: TransferRow[],
	engineOutputs: unknown,
	signal: AbortSignal,
): Promise<void> {
	let rows = planned;
	if (rows.length === 0) {
		const at = isoNow(deps.clock);
		rows = publishTargetsOf(wf).map((t, i) => ({
			workflow_id: wf.id,
			direction: "out" as const,
			seq: i + 1,
			url: t.url.endsWith("/") ? t.url : `${t.url}/`,
			path: "",
			size: null,
			sha256: null,
			modified: null,
			options: JSON.stringify(endpointOptionsOf(t)),
			status: "pending" as const,
			bytes: 0,
			message: null,
			updated_at: at,
		}));
		try {
			await insertTransfers(deps.db, rows);
		} catch (error) {
			// Another replica recorded the targets first: use its rows. None: the insert itself failed.
			rows = await listTransfers(deps.db, wf.id, "out");
			if (rows.length === 0) throw error;
		}
	}
	const session = new StagingSession(deps.config, await deps.secretsOf(wf.owner_id));
	const meter = new StagingMeter(deps, wf, "out");
	try {
		const files = await outputFiles(wf.workspace_path, publishedPathsOf(wf, engineOutputs));
		const pending = rows.filter((r) => r.status !== "done");
		const p = meter.progress;
		p.files_total = files.length * pending.length;
		p.bytes_total = files.reduce((n, f) => n + f.size, 0) * pending.length;
		await meter.write(true);
		for (const row of pending) {
			try {
				const result = await publishFiles(session, row.url, files, {
					signal,
					owner: wf.id,
					endpoint: JSON.parse(row.options),
					onBytes: (n) => {
						p.bytes_done += n;
					},
					onFile: (f, isSkipped) => {
						p.files_done++;
						if (isSkipped) {
							p.files_skipped++;
							p.bytes_done += f.size;
						}
						void meter.write().catch(() => undefined);
					},
				});
				const leftovers =
					result.removed > 0
						? `; ${result.removed} temporary object${result.removed === 1 ? "" : "s"} of an interrupted attempt removed`
						: "";
				const message = `${result.uploaded} uploaded (${mib(result.bytes)}), ${result.skipped} unchanged; manifest ${result.manifestUrl}${leftovers}`;
				await updateTransfers(deps.db, wf.id, "out", [row.seq], {
					status: "done",
					bytes: result.bytes,
					message,
					updated_at: isoNow(deps.clock),
				});
				await meter.event("outputs_published", `outputs published to ${row.url}: ${message}`);
			} catch (error) {
				if (signal.aborted) throw error;
				const message = `publishing outputs to ${row.url} failed: ${isAppError(error) ? error.message : messageOf(error)}`;
				await updateTransfers(deps.db, wf.id, "out", [row.seq], {
					status: "failed",
					message,
					updated_at: isoNow(deps.clock),
				});
				await meter.event("publish_failed", message, "error");
				throw new AppError("validation_failed", message, { cause: error });
			}
		}
		await meter.write(true);
	} finally {
		session.close();
	}
}
