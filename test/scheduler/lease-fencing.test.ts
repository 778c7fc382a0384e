import { readFileSync } from "node:fs";
import { join } from "node:path";
import { pino } from "pino";
import { afterAll, describe, expect, it } from "vitest";
import { type BackendJob, type ComputeBackend, LocalBackend, type Submission } from "../../src/backends/index.js";
import { systemClock } from "../../src/common/index.js";
import { builtInEngines } from "../../src/engines/index.js";
import { Scheduler } from "../../src/scheduler/index.js";
import { testDialects } from "../support/databases.js";
import { startTestServer, type TestServer } from "../support/test-server.js";

const leaseMs = 3000;
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** A real local backend whose submissions wait (as an sbatch does on a busy controller) until `release`. */
class SlowSubmitBackend implements ComputeBackend {
	readonly name = "local";
	submitCalls = 0;
	private entered: () => void = () => undefined;
	/** Resolves when the first submission is under way. */
	readonly submitting = new Promise<void>((r) => {
		this.entered = r;
	});
	constructor(
		private readonly inner: LocalBackend,
		private readonly release: Promise<void>,
	) {}
	get capabilities() {
		return this.inner.capabilities;
	}
	get jobFolderFs() {
		return this.inner.jobFolderFs;
	}
	async submit(job: BackendJob): Promise<Submission> {
		this.submitCalls++;
		this.entered();
		await this.release;
		return this.inner.submit(job);
	}
	poll(refs: readonly string[]) {
		return this.inner.poll(refs);
	}
	cancel(ref: string) {
		return this.inner.cancel(ref);
	}
	find(job: Parameters<LocalBackend["find"]>[0]) {
		return this.inner.find(job);
	}
	onChange(listener: (ref: string) => void) {
		this.inner.onChange(listener);
	}
	close() {
		return this.inner.close();
	}
}

/** A real local backend whose polls can be held (a slow squeue), counting cancels. */
class HeldPollBackend implements ComputeBackend {
	readonly name = "local";
	cancelCalls = 0;
	heldPolls = 0;
	private gate: { promise: Promise<void>; open: () => void } | undefined;
	constructor(private readonly inner: LocalBackend) {}
	get capabilities() {
		return this.inner.capabilities;
	}
	get jobFolderFs() {
		return this.inner.jobFolderFs;
	}
	/** Holds the next polls until `next` or `release`. */
	hold(): void {
		let open: () => void = () => undefined;
		const promise = new Promise<void>((r) => {
			open = r;
		});
		this.gate = { promise, open };
	}
	/** Lets the held polls go and holds the following ones. */
	next(): void {
		const old = this.gate;
		this.hold();
		old?.open();
	}
	release(): void {
		const old = this.gate;
		this.gate = undefined;
		old?.open();
	}
	submit(job: BackendJob): Promise<Submission> {
		return this.inner.submit(job);
	}
	async poll(refs: readonly string[]) {
		const gate = this.gate;
		if (gate) {
			this.heldPolls++;
			await gate.promise;
		}
		return this.inner.poll(refs);
	}
	cancel(ref: string) {
		this.cancelCalls++;
		return this.inner.cancel(ref);
	}
	find(job: Parameters<LocalBackend["find"]>[0]) {
		return this.inner.find(job);
	}
	private listeners: Array<(ref: string) => void> = [];
	onChange(listener: (ref: string) => void) {
		this.listeners.push(listener);
		this.inner.onChange(listener);
	}
	/** Reports a job changed, so the next tick polls it (local polls are otherwise rare). */
	changed(ref: string): void {
		for (const l of this.listeners) l(ref);
	}
	close() {
		return this.inner.close();
	}
}

async function until(what: string, check: () => Promise<boolean> | boolean, ms = 20_000): Promise<void> {
	const end = Date.now() + ms;
	while (!(await check())) {
		if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
		await sleep(50);
	}
}

describe.each(testDialects)("a run's lease fences what a scheduler does to it (%s)", (dialect) => {
	const servers: TestServer[] = [];
	const schedulers: Scheduler[] = [];
	afterAll(async () => {
		for (const s of schedulers) await s.stop();
		for (const s of servers) await s.close();
	});

	/** A server that runs no scheduler of its own, and a run started through its API. */
	async function startRun(name: string, command = "echo ran >> runs.log"): Promise<{ t: TestServer; id: string }> {
		const t = await startTestServer(dialect, { runScheduler: false });
		servers.push(t);
		const { token } = await t.user(`${name}@example.org`);
		const spec = { type: "serial", specification: { steps: [{ name: "s", commands: [command] }] } };
		const created = await t.call("POST", `/api/workflows?workflow_name=${name}`, { token, body: { workflow: spec } });
		const { workflow_id: id } = (await created.json()) as { workflow_id: string };
		await t.call("POST", `/api/workflows/${name}/start`, { token, body: {} });
		return { t, id };
	}

	function replica(t: TestServer, instanceId: string, backend: ComputeBackend): Scheduler {
		const s = new Scheduler(
			{ instanceId, leaseMs, idleMs: 100, maxWorkflowsPerTick: 200, defaultBackend: "local", backendAliases: {} },
			{
				db: t.server.db,
				backends: new Map([["local", backend]]),
				engines: builtInEngines(),
				clock: systemClock,
				logger: pino({ level: "silent" }),
			},
		);
		schedulers.push(s);
		s.start();
		return s;
	}

	async function ended(t: TestServer, id: string) {
		for (;;) {
			const wf = await t.server.db.kysely
				.selectFrom("workflows")
				.selectAll()
				.where("id", "=", id)
				.executeTakeFirstOrThrow();
			if (!["created", "queued", "pending", "running"].includes(wf.status)) return wf;
			await sleep(100);
		}
	}

	async function outcome(t: TestServer, id: string) {
		const wf = await ended(t, id);
		const jobs = await t.server.db.kysely.selectFrom("jobs").selectAll().where("workflow_id", "=", id).execute();
		const events = await t.server.db.kysely
			.selectFrom("events")
			.select(["type"])
			.where("workflow_id", "=", id)
			.orderBy("id")
			.execute();
		return {
			wf,
			jobs,
			types: events.map((e) => e.type),
			log: readFileSync(join(wf.workspace_path, "runs.log"), "utf8"),
		};
	}

	it("keeps the lease while a submission outlasts it, so no other replica submits the job again", async () => {
		const { t, id } = await startRun("slow");
		const a = new SlowSubmitBackend(await LocalBackend.create({ containerRuntime: "none" }), sleep(2.5 * leaseMs));
		const b = new SlowSubmitBackend(await LocalBackend.create({ containerRuntime: "none" }), Promise.resolve());
		replica(t, "replica-a:1", a);
		await a.submitting;
		replica(t, "replica-b:1", b);
		const { wf, jobs, types, log } = await outcome(t, id);
		expect(wf.status).toBe("finished");
		expect(b.submitCalls).toBe(0);
		expect(jobs.map((j) => [j.status, j.exit_code])).toEqual([["finished", 0]]);
		expect(log).toBe("ran\n");
		await sleep(leaseMs); // anything written late would be there by now
		const after = await outcome(t, id);
		expect(after.jobs.map((j) => j.status)).toEqual(["finished"]);
		expect(after.types.filter((x) => x === "job_submitted")).toHaveLength(1);
		expect(after.types.at(-1)).toBe(types.at(-1));
		expect(after.types.at(-1)).toBe("workflow_finished");
	}, 60_000);

	it("does not undo what the new holder did when its lease ran out while a backend call was under way", async () => {
		const { t, id } = await startRun("late");
		let release: () => void = () => undefined;
		const a = new SlowSubmitBackend(
			await LocalBackend.create({ containerRuntime: "none" }),
			new Promise<void>((r) => {
				release = r;
			}),
		);
		replica(t, "replica-a:2", a);
		await a.submitting;
		// Replica A stalls past its lease (a long pause, a hung controller): the lease runs out...
		await t.server.db.kysely
			.updateTable("workflows")
			.set({ lease_expires_at: "2000-01-01T00:00:00.000Z" })
			.where("id", "=", id)
			.execute();
		// ...so replica B takes the run over and runs it to the end.
		replica(
			t,
			"replica-b:2",
			new SlowSubmitBackend(await LocalBackend.create({ containerRuntime: "none" }), Promise.resolve()),
		);
		const done = await outcome(t, id);
		expect(done.wf.status).toBe("finished");
		// Now A's submission returns: A must neither write over the finished job nor log after the end.
		release();
		await sleep(2 * leaseMs);
		const after = await outcome(t, id);
		expect(after.wf.status).toBe("finished");
		expect(after.jobs.map((j) => [j.status, j.exit_code])).toEqual([["finished", 0]]);
		expect(after.types.at(-1)).toBe("workflow_finished");
		expect(after.types.filter((x) => x === "job_submitted")).toHaveLength(1);
		expect(after.types.filter((x) => x.startsWith("workflow_"))).toEqual(
			done.types.filter((x) => x.startsWith("workflow_")),
		);
		expect(after.log).toBe("ran\n");
	}, 60_000);

	it("does not cancel jobs or stop a run whose lease went elsewhere while its tick was under way", async () => {
		const { t, id } = await startRun("stopping", "sleep 8; echo ran >> runs.log");
		const a = new HeldPollBackend(await LocalBackend.create({ containerRuntime: "none" }));
		replica(t, "replica-a:3", a);
		const jobOf = () =>
			t.server.db.kysely.selectFrom("jobs").selectAll().where("workflow_id", "=", id).executeTakeFirst();
		await until("the job to run", async () => (await jobOf())?.status === "running");
		const ref = (await jobOf())?.backend_ref as string;
		// Hold a tick in its poll, ask for the stop, and hold the next tick (which reads the stop) there too.
		a.hold();
		a.changed(ref);
		await until("a held poll", () => a.heldPolls >= 1);
		await t.server.db.kysely
			.updateTable("workflows")
			.set({ stop_requested_at: new Date().toISOString() })
			.where("id", "=", id)
			.execute();
		a.next();
		a.changed(ref);
		await until("the next tick's poll", () => a.heldPolls >= 2);
		// Meanwhile another replica took the run over.
		await t.server.db.kysely
			.updateTable("workflows")
			.set({ lease_owner: "replica-b:3", lease_expires_at: "2100-01-01T00:00:00.000Z" })
			.where("id", "=", id)
			.execute();
		await sleep(leaseMs / 10 + 300); // past the renewal A may skip
		a.release();
		await sleep(1500);
		expect(a.cancelCalls).toBe(0);
		const wf = await t.server.db.kysely
			.selectFrom("workflows")
			.selectAll()
			.where("id", "=", id)
			.executeTakeFirstOrThrow();
		expect(wf.status).toBe("running");
		expect(wf.lease_owner).toBe("replica-b:3");
		expect((await jobOf())?.status).toBe("running");
	}, 60_000);
});
