import { spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import BetterSqlite3 from "better-sqlite3";
import pg from "pg";
import { pino } from "pino";
import { afterAll, describe, expect, it } from "vitest";
import { type BackendJob, type ComputeBackend, LocalBackend, type Submission } from "../../src/backends/index.js";
import { systemClock } from "../../src/common/index.js";
import { transientDatabaseError } from "../../src/db/index.js";
import { builtInEngines, type WorkflowEngine } from "../../src/engines/index.js";
import { Scheduler } from "../../src/scheduler/index.js";
import { postgresUrl, testDatabase, testDialects } from "../support/databases.js";
import { startTestServer, type TestServer } from "../support/test-server.js";

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const isAlive = (pid: number) => {
	try {
		process.kill(pid, 0);
		return true;
	} catch {
		return false;
	}
};

/** A real local backend that runs `afterSubmit` once, right after the first job was handed over. */
class AfterSubmitBackend implements ComputeBackend {
	readonly name = "local";
	private hasRun = false;
	constructor(
		private readonly inner: LocalBackend,
		private readonly afterSubmit: () => Promise<void>,
	) {}
	get capabilities() {
		return this.inner.capabilities;
	}
	get jobFolderFs() {
		return this.inner.jobFolderFs;
	}
	async submit(job: BackendJob): Promise<Submission> {
		const sub = await this.inner.submit(job);
		if (!this.hasRun) {
			this.hasRun = true;
			await this.afterSubmit();
		}
		return sub;
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

const servers: TestServer[] = [];
const schedulers: Scheduler[] = [];
afterAll(async () => {
	for (const s of schedulers) await s.stop();
	for (const s of servers) await s.close();
});

async function startRun(t: TestServer, name: string, command: string): Promise<string> {
	const { token } = await t.user(`${name}@example.org`);
	const spec = { type: "serial", specification: { steps: [{ name: "s", commands: [command] }] } };
	const created = await t.call("POST", `/api/workflows?workflow_name=${name}`, { token, body: { workflow: spec } });
	const { workflow_id: id } = (await created.json()) as { workflow_id: string };
	await t.call("POST", `/api/workflows/${name}/start`, { token, body: {} });
	return id;
}

async function outcome(t: TestServer, id: string) {
	for (;;) {
		const wf = await t.server.db.kysely
			.selectFrom("workflows")
			.selectAll()
			.where("id", "=", id)
			.executeTakeFirstOrThrow();
		if (!["created", "queued", "pending", "running"].includes(wf.status)) {
			const jobs = await t.server.db.kysely.selectFrom("jobs").selectAll().where("workflow_id", "=", id).execute();
			return { wf, jobs };
		}
		await sleep(100);
	}
}

describe("a database that is busy for a while (sqlite)", () => {
	it("retries the run instead of failing it when the lock outlasts the busy timeout right after a submission", async () => {
		let t!: TestServer;
		let wasLocked = false;
		// Another process holds SQLite's write lock a little longer than the server's busy_timeout (10 s).
		const holdLock = async () => {
			const child = spawn(
				process.execPath,
				[
					"-e",
					`const D=require(${JSON.stringify(createRequire(import.meta.url).resolve("better-sqlite3"))});const d=new D(${JSON.stringify(t.database.url)});d.exec("BEGIN IMMEDIATE");console.log("locked");setTimeout(()=>{d.exec("COMMIT");d.close()},10500)`,
				],
				{ stdio: ["ignore", "pipe", "inherit"] },
			);
			await new Promise((r) => child.stdout?.once("data", r));
			wasLocked = true;
		};
		const backend = new AfterSubmitBackend(await LocalBackend.create({ containerRuntime: "none" }), holdLock);
		t = await startTestServer("sqlite", { backends: new Map([["local", backend]]) });
		servers.push(t);
		const id = await startRun(t, "busy", "sleep 1; echo ran >> runs.log");
		const { wf, jobs } = await outcome(t, id);
		expect(wasLocked).toBe(true);
		expect([wf.status, wf.status_message]).toEqual(["finished", "workflow finished successfully"]);
		expect(jobs.map((j) => [j.status, j.exit_code])).toEqual([["finished", 0]]);
		expect(readFileSync(join(wf.workspace_path, "runs.log"), "utf8")).toBe("ran\n");
	}, 60_000);
});

describe.each(testDialects)("a run that really fails (%s)", (dialect) => {
	it("cancels its live jobs and marks them stopped, so none runs on unwatched", async () => {
		const t = await startTestServer(dialect, { runScheduler: false });
		servers.push(t);
		const engines = builtInEngines();
		const serial = engines.get("serial") as WorkflowEngine;
		// A fault in our own code while a job runs (an engine that throws once the job is running).
		engines.set("serial", {
			...serial,
			next: async (state) => {
				if (state.jobs.some((j) => j.status === "running")) throw new Error("a bug in the engine");
				return serial.next(state);
			},
		});
		const scheduler = new Scheduler(
			{
				instanceId: `fail-${dialect}:1`,
				leaseMs: 30_000,
				idleMs: 100,
				maxWorkflowsPerTick: 200,
				defaultBackend: "local",
				backendAliases: {},
			},
			{
				db: t.server.db,
				backends: new Map([["local", await LocalBackend.create({ containerRuntime: "none" })]]),
				engines,
				clock: systemClock,
				logger: pino({ level: "silent" }),
			},
		);
		schedulers.push(scheduler);
		const id = await startRun(t, "bug", "sleep 30; echo ran >> runs.log");
		scheduler.start();
		const { wf, jobs } = await outcome(t, id);
		expect(wf.status).toBe("failed");
		expect(wf.status_message).toMatch(/internal error/);
		expect(jobs.map((j) => j.status)).toEqual(["stopped"]);
		const job = jobs[0] as (typeof jobs)[number];
		const pid = Number(readFileSync(join(job.job_dir, "pid"), "utf8"));
		for (let i = 0; i < 50 && isAlive(pid); i++) await sleep(100);
		expect(isAlive(pid)).toBe(false);
		const types = (
			await t.server.db.kysely.selectFrom("events").select("type").where("workflow_id", "=", id).orderBy("id").execute()
		).map((e) => e.type);
		expect(types.at(-1)).toBe("workflow_failed");
		expect(existsSync(join(wf.workspace_path, "runs.log"))).toBe(false);
	}, 60_000);

	it("tells a busy, locked or lost database (a retryable error) from any other", async () => {
		if (dialect === "sqlite") {
			const database = testDatabase("sqlite");
			const db = await database.open();
			await db.close();
			const holder = new BetterSqlite3(database.url);
			const other = new BetterSqlite3(database.url, { timeout: 0 });
			try {
				holder.exec("BEGIN IMMEDIATE");
				let busy: unknown;
				try {
					other.exec("BEGIN IMMEDIATE");
				} catch (error) {
					busy = error;
				}
				expect(transientDatabaseError(busy)).toMatchObject({ code: "backend_unavailable", retryable: true });
				let mistake: unknown;
				try {
					holder.exec("SELECT * FROM no_such_table");
				} catch (error) {
					mistake = error;
				}
				expect(mistake).toBeInstanceOf(Error);
				expect(transientDatabaseError(mistake)).toBeUndefined();
			} finally {
				holder.close();
				other.close();
				await database.drop();
			}
			return;
		}
		const victim = new pg.Client({ connectionString: postgresUrl });
		const admin = new pg.Client({ connectionString: postgresUrl });
		await victim.connect();
		await admin.connect();
		victim.on("error", () => undefined);
		try {
			const { rows } = await victim.query<{ pid: number }>("select pg_backend_pid() as pid");
			await admin.query("select pg_terminate_backend($1)", [rows[0]?.pid]);
			const lost = await victim.query("select 1").then(
				() => undefined,
				(error: unknown) => error,
			);
			expect(transientDatabaseError(lost)).toMatchObject({ code: "backend_unavailable", retryable: true });
			const syntax = await admin.query("selec 1").then(
				() => undefined,
				(error: unknown) => error,
			);
			expect(transientDatabaseError(syntax)).toBeUndefined();
		} finally {
			await victim.end().catch(() => undefined);
			await admin.end();
		}
	});
});
