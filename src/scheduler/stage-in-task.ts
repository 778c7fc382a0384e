import { AppError, isAppError, isoNow, messageOf } from "../common/index.js";
import { insertTransfers, listTransfers, type TransferRow, updateTransfers, type WorkflowRow } from "../db/index.js";
import {
	expandRemoteInput,
	type PlannedFile,
	runPool,
	StagingSession,
	stageFile,
	sweepStagingLeftovers,
	withRetries,
} from "../storage/index.js";
import type { StagingPhaseDeps } from "./staging-phase.js";
import { remoteInputsOf } from "./staging-plan.js";
import { mib, StagingMeter } from "./staging-progress.js";

/**
 * Stages a run's remote inputs into its workspace: plans the files once (listing prefixes and
 * folders) and records them, then transfers those not done yet, in parallel and with retries.
 */
export async function stageIn(
	deps: StagingPhaseDeps,
	wf: WorkflowRow,
	planned: TransferRow[],
	signal: AbortSignal,
): Promise<void> {
	const session = new StagingSession(deps.config, await deps.secretsOf(wf.owner_id));
	const meter = new StagingMeter(deps, wf, "in");
	const started = Date.now();
	try {
		const rows = planned.length > 0 ? planned : await plan(deps, wf, session, signal, meter);
		const pending = rows.filter((r) => r.status === "pending");
		// Before any transfer of this run: what a server killed mid-transfer left beside the files.
		const targets = pending.map((r) => r.path);
		const swept = await sweepStagingLeftovers(wf.workspace_path, targets);
		if (swept.length > 0)
			deps.logger.info({ workflow: wf.id, removed: swept.length }, "removed partial files of an earlier stage-in");
		const p = meter.progress;
		p.files_total = rows.length;
		p.bytes_total = rows.reduce((n, r) => n + (r.size ?? 0), 0);
		for (const r of rows.filter((r) => r.status === "done")) {
			p.files_done++;
			p.bytes_done += r.size ?? 0;
		}
		await meter.write(true);
		const done: number[] = [];
		let lastFlush = Date.now();
		const flush = async () => {
			const seqs = done.splice(0);
			lastFlush = Date.now();
			await updateTransfers(deps.db, wf.id, "in", seqs, { status: "done", updated_at: isoNow(deps.clock) });
		};
		const retry = { retries: deps.config.retries, signal };
		try {
			await runPool(
				pending,
				deps.config.concurrency,
				async (row) => {
					const file = plannedOf(row);
					let partial = 0;
					try {
						const result = await withRetries(
							() => {
								p.bytes_done -= partial;
								partial = 0;
								return stageFile(session, file, wf.workspace_path, {
									signal,
									onBytes: (n) => {
										partial += n;
										p.bytes_done += n;
									},
								});
							},
							{
								...retry,
								onRetry: (attempt, error) =>
									void meter
										.event(
											"staging_retry",
											`retrying ${row.url} (attempt ${attempt + 1}): ${messageOf(error)}`,
											"warning",
										)
										.catch(() => undefined),
							},
						);
						if (result.isSkipped) {
							p.files_skipped++;
							p.bytes_done += row.size ?? 0;
						}
					} catch (error) {
						if (signal.aborted) throw error;
						const message = isAppError(error) ? error.message : `staging ${row.url} failed: ${messageOf(error)}`;
						await updateTransfers(deps.db, wf.id, "in", [row.seq], {
							status: "failed",
							message,
							updated_at: isoNow(deps.clock),
						});
						throw new AppError("validation_failed", message, { cause: error });
					}
					p.files_done++;
					done.push(row.seq);
					if (done.length >= 500 || Date.now() - lastFlush > 1000) await flush();
					await meter.write();
				},
				signal,
			);
		} finally {
			await flush();
		}
		await meter.write(true);
		const seconds = Math.max(0.001, (Date.now() - started) / 1000);
		const moved = p.bytes_done;
		await meter.event(
			"staging_finished",
			`staged ${p.files_total} file${p.files_total === 1 ? "" : "s"} (${mib(p.bytes_total)}) in ${seconds.toFixed(1)} s` +
				` (${mib(moved / seconds)}/s)${p.files_skipped > 0 ? `; ${p.files_skipped} already present` : ""}`,
		);
	} catch (error) {
		if (!signal.aborted) {
			await meter.event("staging_failed", isAppError(error) ? error.message : messageOf(error), "error");
		}
		throw error;
	} finally {
		session.close();
	}
}

/** Lists every remote input and records one pending transfer per file (all in one transaction). */
async function plan(
	deps: StagingPhaseDeps,
	wf: WorkflowRow,
	session: StagingSession,
	signal: AbortSignal,
	meter: StagingMeter,
): Promise<TransferRow[]> {
	const requests = await remoteInputsOf(wf);
	const lists: PlannedFile[][] = requests.map(() => []);
	await runPool(
		requests.map((r, i) => ({ r, i })),
		8,
		async ({ r, i }) => {
			lists[i] = await withRetries(() => expandRemoteInput(session, r, signal), {
				retries: deps.config.retries,
				signal,
			});
		},
		signal,
	);
	// The same object named twice (a folder and a file in it) is staged once, with the checksum either gave.
	const byPath = new Map<string, PlannedFile>();
	for (const f of lists.flat()) {
		const prev = byPath.get(f.path);
		if (prev === undefined) {
			byPath.set(f.path, f);
			continue;
		}
		if (prev.url !== f.url)
			throw new AppError("validation_failed", `${prev.url} and ${f.url} would both be staged to ${f.path}`);
		if (prev.sha256 !== undefined && f.sha256 !== undefined && prev.sha256 !== f.sha256)
			throw new AppError("validation_failed", `${f.url} is given two different sha256 checksums; keep one`);
		byPath.set(f.path, { ...prev, sha256: prev.sha256 ?? f.sha256 });
	}
	const files = [...byPath.values()];
	const at = isoNow(deps.clock);
	const rows: TransferRow[] = files.map((f, i) => ({
		workflow_id: wf.id,
		direction: "in",
		seq: i + 1,
		url: f.url,
		path: f.path,
		size: f.size ?? null,
		sha256: f.sha256 ?? null,
		modified: f.modified?.toISOString() ?? null,
		options: JSON.stringify(f.options),
		status: "pending",
		bytes: 0,
		message: null,
		updated_at: at,
	}));
	try {
		await insertTransfers(deps.db, rows);
	} catch (error) {
		// Another replica planned it first: use its plan.
		const theirs = await listTransfers(deps.db, wf.id, "in");
		if (theirs.length === 0) throw error;
		return theirs;
	}
	const total = rows.reduce((n, r) => n + (r.size ?? 0), 0);
	await meter.event(
		"staging_started",
		`staging ${rows.length} file${rows.length === 1 ? "" : "s"} (${mib(total)}) from ${requests.length} remote input${requests.length === 1 ? "" : "s"}`,
	);
	return rows;
}

function plannedOf(row: TransferRow): PlannedFile {
	return {
		url: row.url,
		path: row.path,
		size: row.size ?? undefined,
		sha256: row.sha256 ?? undefined,
		modified: row.modified ? new Date(row.modified) : undefined,
		options: JSON.parse(row.options),
	};
}
