import { AppError, isAppError, isoNow, type Logger, messageOf } from "../common/index.js";
import type { StagingConfig } from "../config/index.js";
import { listTransfers, type TransferRow, type WorkflowRow } from "../db/index.js";
import { parseRemoteUrl, type StagingSecrets, StagingSession } from "../storage/index.js";
import { publishOutputs } from "./publish-task.js";
import { stageIn } from "./stage-in-task.js";
import { endpointOptionsOf, publishTargetsOf, remoteInputsOf } from "./staging-plan.js";
import type { StagingReporter } from "./staging-progress.js";

/** Whether a run may go on: staging is done, still moving bytes, or failed (with the reason for the user). */
export type StagingGate = { state: "ready" } | { state: "busy" } | { state: "failed"; reason: string };

/** What the staging phase works with. */
export interface StagingPhaseDeps extends StagingReporter {
	config: StagingConfig;
	logger: Logger;
	/** Tells the scheduler a transfer ended (so the run goes on at once). */
	wake(): void;
	/** A user's decrypted secrets: staging credentials come from there, never from the spec. */
	secretsOf(userId: string): Promise<StagingSecrets>;
}

interface Task {
	controller: AbortController;
	done: Promise<void>;
	failure?: string;
	isFinished: boolean;
}

/**
 * Stage-in before a run's first job and publication after its success. Transfers run in the
 * background (the scheduler's loop keeps ticking and renewing leases) and are recorded in the
 * database before any byte moves; a restarted server plans nothing again and skips what is there.
 */
export class StagingPhase {
	private readonly tasks = new Map<string, Task>();
	private readonly ready = new Set<string>();

	constructor(private readonly deps: StagingPhaseDeps) {}

	/** Checks a run's staging before it starts, without moving data: URLs, credentials, allowed hosts. */
	async check(wf: WorkflowRow): Promise<void> {
		const requests = await remoteInputsOf(wf);
		const targets = publishTargetsOf(wf);
		if (requests.length === 0 && targets.length === 0) return;
		const session = new StagingSession(this.deps.config, await this.deps.secretsOf(wf.owner_id));
		try {
			for (const r of requests) await session.storeFor(parseRemoteUrl(r.url), r.options);
			for (const t of targets) {
				const loc = parseRemoteUrl(t.url.endsWith("/") ? t.url : `${t.url}/`);
				if (loc.scheme === "file") throw new AppError("validation_failed", `outputs cannot be published to ${t.url}`);
				await session.storeFor(loc, endpointOptionsOf(t));
			}
		} finally {
			session.close();
		}
	}

	/** Before the first job: starts or watches the stage-in of the run's remote inputs. */
	async beforeJobs(wf: WorkflowRow): Promise<StagingGate> {
		if (this.ready.has(wf.id)) return { state: "ready" };
		const gate = this.taskGate(wf.id, "in");
		if (gate) return gate;
		const rows = await listTransfers(this.deps.db, wf.id, "in");
		if (rows.length === 0 && (await remoteInputsOf(wf)).length === 0) return this.markReady(wf.id);
		if (rows.length > 0 && rows.every((r) => r.status === "done")) return this.markReady(wf.id);
		const failed = rows.find((r) => r.status === "failed");
		if (failed) return { state: "failed", reason: failed.message ?? `staging ${failed.url} failed` };
		this.startTask(wf, "in", (signal) => stageIn(this.deps, wf, rows, signal));
		return { state: "busy" };
	}

	/** After the last job of a successful run: starts or watches the publication of its outputs. */
	async afterSuccess(wf: WorkflowRow, engineOutputs: unknown): Promise<StagingGate> {
		if (publishTargetsOf(wf).length === 0) return { state: "ready" };
		const gate = this.taskGate(wf.id, "out");
		if (gate) return gate;
		const rows = await listTransfers(this.deps.db, wf.id, "out");
		if (rows.length > 0 && rows.every((r) => r.status === "done")) return { state: "ready" };
		const failed = rows.find((r) => r.status === "failed");
		if (failed) return { state: "failed", reason: failed.message ?? `publishing to ${failed.url} failed` };
		this.startTask(wf, "out", (signal) => publishOutputs(this.deps, wf, rows, engineOutputs, signal));
		return { state: "busy" };
	}

	/** True while the run's outputs are being published (the engine need not be asked again). */
	isPublishing(workflowId: string): boolean {
		const t = this.tasks.get(`${workflowId}:out`);
		return t !== undefined && !t.isFinished;
	}

	/** The published targets of a run, for its final message. */
	async publishedTo(workflowId: string): Promise<TransferRow[]> {
		return listTransfers(this.deps.db, workflowId, "out");
	}

	/** Cancels a run's transfers (stop requested, or the run ended). */
	cancel(workflowId: string): void {
		for (const dir of ["in", "out"]) {
			const key = `${workflowId}:${dir}`;
			this.tasks.get(key)?.controller.abort(new AppError("conflict", "the workflow was stopped"));
			this.tasks.delete(key);
		}
		this.ready.delete(workflowId);
	}

	/** Cancels every transfer and waits for them to let go (server shutdown: they resume at the next start). */
	async close(): Promise<void> {
		const all = [...this.tasks.values()];
		for (const t of all) t.controller.abort(new AppError("backend_unavailable", "the server is shutting down"));
		await Promise.all(all.map((t) => t.done));
		this.tasks.clear();
	}

	private markReady(workflowId: string): StagingGate {
		this.ready.add(workflowId);
		return { state: "ready" };
	}

	private taskGate(workflowId: string, dir: "in" | "out"): StagingGate | undefined {
		const t = this.tasks.get(`${workflowId}:${dir}`);
		if (!t) return undefined;
		if (!t.isFinished) return { state: "busy" };
		this.tasks.delete(`${workflowId}:${dir}`);
		if (t.failure !== undefined) return { state: "failed", reason: t.failure };
		if (dir === "in") return this.markReady(workflowId);
		return { state: "ready" };
	}

	private startTask(wf: WorkflowRow, dir: "in" | "out", work: (signal: AbortSignal) => Promise<void>): void {
		const controller = new AbortController();
		const task: Task = { controller, isFinished: false, done: Promise.resolve() };
		task.done = work(controller.signal).then(
			() => {
				task.isFinished = true;
				this.deps.wake();
			},
			(error: unknown) => {
				task.isFinished = true;
				if (controller.signal.aborted) return;
				if (!isAppError(error) || error.code === "internal")
					this.deps.logger.error({ err: error, workflow: wf.id }, "staging failed");
				task.failure =
					isAppError(error) && error.code !== "internal" ? error.message : `staging failed: ${messageOf(error)}`;
				this.deps.notify(wf.id);
			},
		);
		this.tasks.set(`${wf.id}:${dir}`, task);
		this.deps.logger.info({ workflow: wf.id, direction: dir, at: isoNow(this.deps.clock) }, "staging started");
	}
}
