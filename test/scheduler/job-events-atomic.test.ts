import { afterAll, describe, expect, it } from "vitest";
import { insertJob, listEvents, listJobs, updateJobsWithEvents, updateJobWithEvents } from "../../src/db/index.js";
import { testDialects } from "../support/databases.js";
import { jobRow } from "../support/job-rows.js";
import { startTestServer, type TestServer } from "../support/test-server.js";

describe.each(testDialects)("a job's state and the events about it are written together (%s)", (dialect) => {
	const servers: TestServer[] = [];
	afterAll(async () => {
		for (const s of servers) await s.close();
	});

	it("commits both, or (when the events cannot be written) neither", async () => {
		const t = await startTestServer(dialect);
		servers.push(t);
		const { token } = await t.user("atomic@example.org");
		const created = await t.call("POST", "/api/workflows?workflow_name=atomic", {
			token,
			body: { workflow: { type: "serial", specification: { steps: [{ commands: ["true"] }] } } },
		});
		const { workflow_id: workflowId } = (await created.json()) as { workflow_id: string };
		const db = t.server.db;
		const job = { ...jobRow(1, "queued"), id: `${workflowId}-job`, workflow_id: workflowId };
		await insertJob(db, job);
		const event = (workflow: string, message: string) => ({
			workflow_id: workflow,
			job_id: job.id,
			at: new Date().toISOString(),
			level: "info" as const,
			type: "job_finished",
			message,
		});

		await updateJobWithEvents(db, job.id, { status: "finished", exit_code: 0 }, [event(workflowId, "finished")]);
		expect((await listJobs(db, workflowId)).map((j) => [j.status, j.exit_code])).toEqual([["finished", 0]]);
		const logged = (await listEvents(db, workflowId)).filter((e) => e.job_id === job.id).map((e) => e.message);
		expect(logged).toEqual(["finished"]);

		// The second event names a run that does not exist (a foreign key fails): the job's update is undone.
		await expect(
			updateJobWithEvents(db, job.id, { status: "failed", exit_code: 3 }, [
				event(workflowId, "failed"),
				event("no-such-run", "failed"),
			]),
		).rejects.toThrow();
		expect((await listJobs(db, workflowId)).map((j) => [j.status, j.exit_code])).toEqual([["finished", 0]]);
		const after = (await listEvents(db, workflowId)).filter((e) => e.job_id === job.id).map((e) => e.message);
		expect(after).toEqual(["finished"]);

		// Several jobs at once (what a scheduler tick saw): all their updates and events, or none.
		const second = { ...jobRow(2, "queued"), id: `${workflowId}-job2`, workflow_id: workflowId };
		await insertJob(db, second);
		const batch = (messages: string[]) => [
			{ id: job.id, patch: { message: "first of two" }, events: [event(workflowId, messages[0] as string)] },
			{ id: second.id, patch: { status: "finished" as const, exit_code: 0 }, events: [event(workflowId, "second")] },
		];
		await expect(
			updateJobsWithEvents(db, [
				...batch(["a"]),
				{ id: second.id, patch: { message: "x" }, events: [event("no-such-run", "x")] },
			]),
		).rejects.toThrow();
		expect((await listJobs(db, workflowId)).map((j) => [j.status, j.message])).toEqual([
			["finished", null],
			["queued", null],
		]);
		await updateJobsWithEvents(db, batch(["first"]));
		expect((await listJobs(db, workflowId)).map((j) => [j.status, j.message])).toEqual([
			["finished", "first of two"],
			["finished", null],
		]);
		const logged2 = (await listEvents(db, workflowId)).filter((e) => e.job_id === job.id).map((e) => e.message);
		expect(logged2).toEqual(["finished", "first", "second"]);
	});
});
