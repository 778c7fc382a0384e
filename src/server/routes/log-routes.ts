import { lstat } from "node:fs/promises";
import { join } from "node:path";
import type { FastifyInstance } from "fastify";
import { jobFiles, readTail } from "../../backends/index.js";
import { AppError, openRegularFile } from "../../common/index.js";
import {
	endedRunStatuses,
	type JobLog,
	type JobLogDetail,
	type LogsDocument,
	toReanaTimeOrNull,
} from "../../contract/index.js";
import {
	findJob,
	findUserById,
	findWorkflowById,
	listEvents,
	listJobs,
	listJobsByIds,
	type UserRow,
} from "../../db/index.js";
import { runName } from "../../scheduler/index.js";
import { jsonBodyOfGet } from "../get-body.js";
import { handle } from "../route-kit.js";
import type { ServerContext } from "../server-context.js";
import { jobSummary, progressOf } from "../workflow-views.js";
import { runFor } from "./workflow-routes.js";

const maxLogBytes = 1024 * 1024;

/** Routes for logs, jobs and the event stream of a run. */
export function logRoutes(app: FastifyInstance, ctx: ServerContext): void {
	handle(app, "get_workflow_logs", async ({ principal, params, query, raw }) => {
		const wf = await runFor(ctx, principal, params.workflow_id_or_name, "workflow.read");
		const owner = (await findUserById(ctx.db, wf.owner_id)) as UserRow;
		// reana-client sends the steps to filter by as a JSON list in the body of this GET.
		const bodySteps = (await jsonBodyOfGet(raw)).steps;
		const wanted = query.steps ?? (Array.isArray(bodySteps) ? bodySteps.map(String) : undefined);
		const steps = wanted === undefined ? undefined : new Set(Array.isArray(wanted) ? wanted : wanted.split(","));
		let jobs = await listJobs(ctx.db, wf.id);
		if (steps) jobs = jobs.filter((j) => steps.has(j.step_name));
		if (query.size) jobs = jobs.slice(((query.page ?? 1) - 1) * query.size, (query.page ?? 1) * query.size);
		const events = await listEvents(ctx.db, wf.id);
		const jobLogs: Record<string, JobLog> = {};
		const jobDetails: Record<string, JobLogDetail> = {};
		for (const j of jobs) {
			const out = await readTail(join(j.job_dir, jobFiles.stdout), maxLogBytes);
			const err = await readTail(join(j.job_dir, jobFiles.stderr), maxLogBytes);
			jobLogs[j.id] = {
				workflow_uuid: wf.id,
				job_name: j.step_name,
				compute_backend: j.backend,
				backend_job_id: j.backend_ref ?? "",
				docker_img: j.image ?? "",
				cmd: j.command,
				status: j.status,
				logs: err ? `${out}${out && !out.endsWith("\n") ? "\n" : ""}${err}` : out,
				started_at: toReanaTimeOrNull(j.started_at),
				finished_at: toReanaTimeOrNull(j.finished_at),
			};
			jobDetails[j.id] = {
				attempt: j.attempt,
				image_used: j.image_used === null ? null : j.image_used === 1,
				exit_code: j.exit_code,
				message: j.message ?? "",
				cached_from: j.cached_from,
			};
		}
		const doc: LogsDocument = {
			workflow_logs: events.map((e) => `${e.at} [${e.level}] ${e.message}`).join("\n"),
			job_logs: jobLogs,
			job_details: jobDetails,
			engine_specific: null,
			events: events.map((e) => ({ id: e.id, at: e.at, level: e.level, type: e.type, message: e.message })),
		};
		return {
			workflow_id: wf.id,
			workflow_name: runName(wf),
			user: owner.id,
			logs: JSON.stringify(doc),
			live_logs_enabled: true,
		};
	});

	handle(app, "get_workflow_jobs", async ({ principal, params, query }) => {
		const wf = await runFor(ctx, principal, params.workflow_id_or_name, "workflow.read");
		const statuses = query.status ? new Set(query.status.split(",")) : undefined;
		// A follower asks for the few jobs that moved: those are read by id, not the whole run.
		let jobs = query.ids
			? await listJobsByIds(ctx.db, wf.id, [...new Set(query.ids.split(","))])
			: await listJobs(ctx.db, wf.id);
		if (statuses) jobs = jobs.filter((j) => statuses.has(j.status));
		const total = jobs.length;
		if (query.size) jobs = jobs.slice(((query.page ?? 1) - 1) * query.size, (query.page ?? 1) * query.size);
		if (!query.log_sizes) return { items: jobs.map(jobSummary), total };
		// A follower reads a log only when it has grown: two file checks here save two requests per job.
		const sizeOf = (path: string) =>
			lstat(path).then(
				(s) => (s.isFile() ? s.size : 0),
				() => 0,
			);
		const items = await Promise.all(
			jobs.map(async (j) => ({
				...jobSummary(j),
				stdout_bytes: await sizeOf(join(j.job_dir, jobFiles.stdout)),
				stderr_bytes: await sizeOf(join(j.job_dir, jobFiles.stderr)),
			})),
		);
		return { items, total };
	});

	handle(app, "get_job_log", async ({ principal, params, query }) => {
		const wf = await runFor(ctx, principal, params.workflow_id_or_name, "workflow.read");
		const job = await findJob(ctx.db, params.job_id);
		if (!job || job.workflow_id !== wf.id)
			throw new AppError("not_found", `job ${params.job_id} is not part of workflow ${runName(wf)}`);
		const stream = query.stream ?? "stdout";
		const offset = query.offset ?? 0;
		const max = query.max_bytes ?? 256 * 1024;
		let data = "";
		let next = offset;
		let size = 0;
		// Only a regular file: a job may have replaced its log by a link to a file of the server's, or a FIFO.
		const handle = await openRegularFile(join(job.job_dir, stream === "stdout" ? jobFiles.stdout : jobFiles.stderr));
		if (handle) {
			try {
				size = (await handle.stat()).size;
				const buf = Buffer.alloc(max);
				const { bytesRead } = await handle.read(buf, 0, max, offset);
				const end = completeUtf8Length(buf, bytesRead);
				data = buf.subarray(0, end).toString("utf8");
				next = offset + end;
			} finally {
				await handle.close();
			}
		}
		return { job_id: job.id, status: job.status, stream, offset, next_offset: next, size, data };
	});

	handle(app, "get_workflow_events", async ({ principal, params, query }) => {
		const wf = await runFor(ctx, principal, params.workflow_id_or_name, "workflow.read");
		const after = query.after ?? 0;
		const wait = Math.min(query.wait ?? 0, 60) * 1000;
		let events = await listEvents(ctx.db, wf.id, after);
		if (query.until === "end") {
			// One answer at the end instead of one per burst of events (a client that only waits for the end).
			const hasEnded = async () =>
				endedRunStatuses.includes((await findWorkflowById(ctx.db, wf.id))?.status ?? "deleted");
			if (wait > 0 && !endedRunStatuses.includes(wf.status)) {
				await waitForNews(ctx, wf.id, wait, hasEnded);
				events = await listEvents(ctx.db, wf.id, after);
			}
		} else if (events.length === 0 && wait > 0) {
			await waitForNews(ctx, wf.id, wait, async () => true);
			events = await listEvents(ctx.db, wf.id, after);
		}
		const latest = await runFor(ctx, principal, wf.id, "workflow.read");
		return {
			status: latest.status,
			progress: progressOf(latest),
			items: events.map((e) => ({
				id: e.id,
				at: e.at,
				level: e.level,
				type: e.type,
				message: e.message,
				job_id: e.job_id,
			})),
		};
	});
}

/**
 * Waits until the scheduler reports news of a run and `isDone` agrees, or `waitMs` passes. A check
 * runs a moment after the news (so that a burst of events comes back in one answer), one at a time.
 */
function waitForNews(
	ctx: ServerContext,
	workflowId: string,
	waitMs: number,
	isDone: () => Promise<boolean>,
): Promise<void> {
	return new Promise<void>((done) => {
		let isFinished = false;
		let check: NodeJS.Timeout | undefined;
		// News that came while a check was reading: that check may have read the state from before it.
		let isStale = false;
		const timer = setTimeout(finish, waitMs);
		const schedule = () => {
			if (check) {
				isStale = true;
				return;
			}
			check = setTimeout(() => {
				isStale = false;
				isDone().then(
					(yes) => {
						check = undefined;
						if (yes) finish();
						else if (isStale) schedule();
					},
					() => finish(), // answer now; the client asks again
				);
			}, 25);
		};
		const unsubscribe = ctx.scheduler.subscribe((id) => {
			if (id === workflowId && !isFinished) schedule();
		});
		function finish() {
			if (isFinished) return;
			isFinished = true;
			clearTimeout(timer);
			if (check) clearTimeout(check);
			unsubscribe();
			done();
		}
	});
}

/** The length of the longest prefix of `buf[0, length)` that does not end inside a UTF-8 character. */
export function completeUtf8Length(buf: Buffer, length: number): number {
	for (let back = 1; back <= Math.min(3, length); back++) {
		const byte = buf[length - back] ?? 0;
		if ((byte & 0xc0) === 0x80) continue; // a continuation byte: keep looking for the lead byte
		const needed = byte >= 0xf0 ? 4 : byte >= 0xe0 ? 3 : byte >= 0xc0 ? 2 : 1;
		return needed > back ? length - back : length;
	}
	return length;
}
