import type { JobObservation } from "../backends/index.js";
import { tailJobLog } from "../backends/index.js";
import { isoNow } from "../common/index.js";
import type { JobRow, JobUpdate, NewEvent, WorkflowRow } from "../db/index.js";
import type { GuardedBackend } from "./guarded-backend.js";
import type { JobSubmitter } from "./job-submitter.js";
import type { RunEvents } from "./run-events.js";
import { LeaseLostError, type RunLeases } from "./run-leases.js";
import { type SchedulerDeps, terminalJob } from "./scheduler-settings.js";

/**
 * Observes the active jobs of leased runs (one batched poll per backend) and records what changed:
 * starts, exits with their codes and log tails, time limits, and infrastructure failures (retried
 * when the step allows it).
 */
export class JobObserver {
	constructor(
		private readonly deps: SchedulerDeps,
		private readonly backends: ReadonlyMap<string, GuardedBackend>,
		private readonly events: RunEvents,
		private readonly submitter: JobSubmitter,
		private readonly leases: RunLeases,
	) {}

	/** Polls every active job of the claimed workflows, one batched call per backend, and records what changed. */
	async observe(workflows: WorkflowRow[], jobsOf: Map<string, JobRow[]>): Promise<void> {
		const byBackend = new Map<string, JobRow[]>();
		for (const wf of workflows) {
			for (const j of jobsOf.get(wf.id) ?? []) {
				if ((j.status === "queued" || j.status === "running") && j.backend_ref) {
					const list = byBackend.get(j.backend) ?? [];
					list.push(j);
					byBackend.set(j.backend, list);
				}
			}
		}
		await Promise.all(
			[...byBackend].map(async ([name, jobs]) => {
				const backend = this.backends.get(name);
				if (!backend) return;
				let seen: Map<string, JobObservation>;
				try {
					seen = await backend.poll(jobs.map((j) => j.backend_ref as string));
				} catch (error) {
					this.deps.logger.warn({ err: error, backend: name }, "backend poll failed; will retry");
					return;
				}
				// What changed is written in one transaction for the whole poll, then applied to the rows in
				// memory (so the engine sees it this tick); a crash before the commit only means observing again.
				const changes: Array<{ job: JobRow; update: JobUpdate }> = [];
				for (const job of jobs) {
					const obs = seen.get(job.backend_ref as string);
					const wf = workflows.find((w) => w.id === job.workflow_id) as WorkflowRow;
					const update = obs ? await this.changeOf(wf, jobsOf.get(wf.id) ?? [], job, obs, backend) : undefined;
					if (update) changes.push({ job, update });
				}
				// Each change applies only to a job still in the state it was seen in: a job that moved on
				// meanwhile was changed by another instance, which holds the run's lease now.
				const applied = await this.events.recordJobUpdates(changes.map((c) => c.update));
				for (const { job, update } of changes) {
					if (!applied.has(job.id)) {
						this.leases.markLost(job.workflow_id);
						continue;
					}
					Object.assign(job, update.patch);
					if (update.patch.status && terminalJob.has(update.patch.status)) await this.submitter.clearSecrets(job);
				}
			}),
		);
	}

	/** What one observation of a job changes, if anything (infrastructure failures are recorded at once). */
	private async changeOf(
		wf: WorkflowRow,
		jobs: JobRow[],
		job: JobRow,
		obs: JobObservation,
		backend: GuardedBackend,
	): Promise<JobUpdate | undefined> {
		const at = isoNow(this.deps.clock);
		const events: NewEvent[] = [];
		const patch: Partial<JobRow> = {};
		switch (obs.state) {
			case "queued":
				return undefined;
			case "running": {
				if (job.status !== "running") {
					patch.status = "running";
					patch.started_at = obs.startedAt?.toISOString() ?? at;
					events.push(
						this.events.event(job.workflow_id, job.id, "job_started", `${job.step_name}: started on ${job.backend}`),
					);
				}
				const limit = (JSON.parse(job.resources) as { timeLimitSeconds?: number }).timeLimitSeconds;
				const started = Date.parse(patch.started_at ?? job.started_at ?? at);
				if (
					limit !== undefined &&
					!backend.backend.capabilities.enforcesTimeLimit &&
					Date.now() - started > limit * 1000
				) {
					try {
						await this.leases.during(wf.id, () => backend.cancel(job.backend_ref as string));
					} catch (error) {
						if (error instanceof LeaseLostError) return undefined; // the run's new holder sees to it
						throw error;
					}
					patch.status = "failed";
					patch.finished_at = at;
					patch.message = `time limit of ${limit}s exceeded; the job was stopped`;
					events.push(
						this.events.event(job.workflow_id, job.id, "job_failed", `${job.step_name}: ${patch.message}`, "error"),
					);
				}
				break;
			}
			case "exited": {
				const ok = obs.exitCode === 0;
				patch.status = ok ? "finished" : "failed";
				patch.exit_code = obs.exitCode;
				patch.started_at = job.started_at ?? obs.startedAt?.toISOString() ?? at;
				patch.finished_at = obs.finishedAt?.toISOString() ?? at;
				if (!ok) {
					const tail = await tailJobLog(job.job_dir, 10);
					const log = tail ? `last lines of its log:\n${tail}` : "it printed nothing";
					// The backend's reason (time limit, out of memory, …) comes first: it is why the job ended.
					patch.message = obs.reason ? `${obs.reason}; ${log}` : log;
				}
				// An exit code the step declares temporary (CWL's temporaryFailCodes) gets a new attempt while
				// retries are left; the new attempt is persisted before this one is recorded as failed.
				const request = ok ? undefined : this.submitter.requestOf(job);
				const retries = (JSON.parse(job.resources) as { retries?: number }).retries ?? 0;
				const isTemporary = request?.retryExitCodes?.includes(obs.exitCode) === true && job.attempt <= retries;
				if (isTemporary) {
					await this.submitter.persistJob(wf, request as NonNullable<typeof request>, jobs, job.attempt + 1);
					patch.message = `temporary failure (exit code ${obs.exitCode}); retried as attempt ${job.attempt + 1} of ${retries + 1}`;
				}
				events.push(
					this.events.event(
						job.workflow_id,
						job.id,
						ok ? "job_finished" : isTemporary ? "job_retry" : "job_failed",
						`${job.step_name}: ${ok ? "finished" : `failed with exit code ${obs.exitCode}${obs.reason ? ` (${obs.reason})` : ""}`}${isTemporary ? `; temporary, retrying (attempt ${job.attempt + 1} of ${retries + 1})` : ""}`,
						ok ? "info" : isTemporary ? "warning" : "error",
					),
				);
				break;
			}
			case "lost":
				await this.retryOrFail(wf, jobs, job, obs.reason);
				return undefined;
		}
		if (Object.keys(patch).length === 0) return undefined;
		return { id: job.id, patch, events, from: [job.status] };
	}

	/**
	 * An infrastructure failure (not the command's own): a new attempt if the step allows retries,
	 * otherwise the job fails. The new attempt is persisted before the old one is marked failed, so a
	 * crash in between repeats this decision instead of failing the workflow.
	 */
	private async retryOrFail(wf: WorkflowRow, jobs: JobRow[], job: JobRow, reason: string): Promise<void> {
		const retries = (JSON.parse(job.resources) as { retries?: number }).retries ?? 0;
		const canRetry = job.attempt <= retries;
		if (canRetry) await this.submitter.persistJob(wf, this.submitter.requestOf(job), jobs, job.attempt + 1);
		const patch: Partial<JobRow> = {
			status: "failed",
			finished_at: isoNow(this.deps.clock),
			message: `infrastructure failure: ${reason}`,
		};
		const retry = canRetry ? `; retrying (attempt ${job.attempt + 1} of ${retries + 1})` : "";
		const event = this.events.event(
			wf.id,
			job.id,
			"job_lost",
			`${job.step_name}: ${reason}${retry}`,
			canRetry ? "warning" : "error",
		);
		if (!(await this.events.recordJobUpdate(job.id, patch, [event], [job.status]))) {
			this.leases.markLost(wf.id);
			return;
		}
		Object.assign(job, patch);
		await this.submitter.clearSecrets(job);
	}
}
