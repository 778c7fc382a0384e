import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import {
	type BackendJob,
	type ComputeBackend,
	type JobIdentity,
	LocalBackend,
	type Submission,
} from "../../src/backends/index.js";
import { testDialects } from "../support/databases.js";
import { startTestServer, type TestServer, waitForStatus } from "../support/test-server.js";

/** A real local backend with injected faults: a cancel that fails once, a submission that fails after the hand-over. */
class FaultyLocalBackend implements ComputeBackend {
	readonly name = "local";
	cancelCalls = 0;
	findCalls = 0;
	beforeCancel: (() => Promise<void>) | undefined;
	private hasFailedSubmit = false;
	constructor(
		private readonly inner: LocalBackend,
		private readonly faults: { failFirstCancel?: boolean; afterFirstSubmit?: () => Promise<void> },
	) {}
	get capabilities() {
		return this.inner.capabilities;
	}
	get jobFolderFs() {
		return this.inner.jobFolderFs;
	}
	async submit(job: BackendJob): Promise<Submission> {
		const sub = await this.inner.submit(job);
		if (this.faults.afterFirstSubmit && !this.hasFailedSubmit) {
			this.hasFailedSubmit = true;
			await this.faults.afterFirstSubmit();
			throw new Error("ssh: connection reset (after the job was handed over)");
		}
		return sub;
	}
	poll(refs: readonly string[]) {
		return this.inner.poll(refs);
	}
	find(job: JobIdentity) {
		this.findCalls++;
		return this.inner.find(job);
	}
	async cancel(ref: string) {
		await this.beforeCancel?.();
		this.cancelCalls++;
		if (this.faults.failFirstCancel && this.cancelCalls === 1)
			throw new Error("scancel: Unable to contact slurm controller");
		return this.inner.cancel(ref);
	}
	onChange(listener: (ref: string) => void) {
		this.inner.onChange(listener);
	}
	close() {
		return this.inner.close();
	}
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const isAlive = (pid: number) => {
	try {
		process.kill(pid, 0);
		return true;
	} catch {
		return false;
	}
};
const spec = (command: string) => ({
	workflow: { type: "serial", specification: { steps: [{ name: "s", commands: [command] }] } },
});

describe.each(testDialects)("stopping a run (%s)", (dialect) => {
	const servers: TestServer[] = [];
	afterAll(async () => {
		for (const s of servers) await s.close();
	});

	/** The run's job, once the scheduler has made its row (a start only queues the run). */
	async function jobOf(t: TestServer, name: string) {
		const wf = await t.server.db.kysely
			.selectFrom("workflows")
			.selectAll()
			.where("name", "=", name)
			.executeTakeFirstOrThrow();
		for (let i = 0; ; i++) {
			const job = await t.server.db.kysely
				.selectFrom("jobs")
				.selectAll()
				.where("workflow_id", "=", wf.id)
				.executeTakeFirst();
			if (job || i >= 200) return job ?? Promise.reject(new Error(`run ${name} made no job in 10 s`));
			await sleep(50);
		}
	}

	async function status(t: TestServer, token: string, name: string) {
		return (await (await t.call("GET", `/api/workflows/${name}/status`, { token })).json()) as {
			status: string;
			workspace_path: string;
		};
	}

	it("keeps the run stopping while a cancel fails and stops it only once a retried cancel killed the job", async () => {
		const backend = new FaultyLocalBackend(await LocalBackend.create({ containerRuntime: "none" }), {
			failFirstCancel: true,
		});
		const t = await startTestServer(dialect, { backends: new Map([["local", backend]]) });
		servers.push(t);
		const { token } = await t.user("stop-retry@example.org");
		await t.call("POST", "/api/workflows?workflow_name=retry", { token, body: spec("sleep 4; echo ran > out.txt") });
		await t.call("POST", "/api/workflows/retry/start", { token, body: {} });
		let job = await jobOf(t, "retry");
		for (let i = 0; i < 200 && !existsSync(join(job.job_dir, "pid")); i++) {
			await sleep(50);
			job = await jobOf(t, "retry");
		}
		await sleep(200);
		const pid = Number(readFileSync(join(job.job_dir, "pid"), "utf8"));
		// The first cancel fails and the job lives on: the run must not read as stopped before a retry killed it.
		const runAtCancel: string[] = [];
		backend.beforeCancel = async () => {
			runAtCancel.push((await status(t, token, "retry")).status);
		};
		expect((await t.call("PUT", "/api/workflows/retry/status?status=stop", { token, body: {} })).ok).toBe(true);
		const ended = (await waitForStatus(t, token, "retry", 20_000)) as { status: string; workspace_path: string };
		expect(ended.status).toBe("stopped");
		expect(runAtCancel).toEqual(["running", "running"]);
		expect((await jobOf(t, "retry")).status).toBe("stopped");
		for (let i = 0; i < 100 && isAlive(pid); i++) await sleep(50);
		expect(isAlive(pid)).toBe(false);
		await sleep(4500);
		expect(existsSync(join(ended.workspace_path, "out.txt"))).toBe(false);
		const logs = JSON.parse(
			((await (await t.call("GET", "/api/workflows/retry/logs", { token })).json()) as { logs: string }).logs,
		);
		expect(logs.workflow_logs).toMatch(/stopping: 1 job not cancelled yet \(local: scancel: Unable to contact/);
	}, 40_000);

	it("stops a job the backend took although its submission was never recorded", async () => {
		let submitted: () => void = () => undefined;
		const handedOver = new Promise<void>((r) => {
			submitted = r;
		});
		const backend = new FaultyLocalBackend(await LocalBackend.create({ containerRuntime: "none" }), {
			afterFirstSubmit: async () => {
				submitted();
				await sleep(800);
			},
		});
		const t = await startTestServer(dialect, { backends: new Map([["local", backend]]) });
		servers.push(t);
		const { token } = await t.user("stop-unrecorded@example.org");
		await t.call("POST", "/api/workflows?workflow_name=unrec", { token, body: spec("sleep 3; echo ran > out.txt") });
		await t.call("POST", "/api/workflows/unrec/start", { token, body: {} });
		await handedOver;
		expect((await t.call("PUT", "/api/workflows/unrec/status?status=stop", { token, body: {} })).ok).toBe(true);
		const ended = (await waitForStatus(t, token, "unrec", 20_000)) as { status: string; workspace_path: string };
		expect(ended.status).toBe("stopped");
		const job = await jobOf(t, "unrec");
		expect(job).toMatchObject({ status: "stopped", backend_ref: null });
		expect(backend.findCalls).toBe(1);
		expect(backend.cancelCalls).toBe(1);
		const pidText = existsSync(join(job.job_dir, "pid")) ? readFileSync(join(job.job_dir, "pid"), "utf8").trim() : "";
		if (pidText) {
			for (let i = 0; i < 100 && isAlive(Number(pidText)); i++) await sleep(50);
			expect(isAlive(Number(pidText))).toBe(false);
		}
		await sleep(3500);
		expect(existsSync(join(ended.workspace_path, "out.txt"))).toBe(false);
	}, 40_000);
});
