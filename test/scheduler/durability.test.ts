import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import {
	type BackendJob,
	type ComputeBackend,
	type JobIdentity,
	LocalBackend,
	type Submission,
} from "../../src/backends/index.js";
import { claimWorkflows, listLeasedWorkflows } from "../../src/db/index.js";
import { testDatabase, testDialects } from "../support/databases.js";
import { startTestServer, type TestServer, waitForStatus } from "../support/test-server.js";

/** A real local backend whose submit starts the job and then reports a failure, as a lost connection would. */
class FlakySubmitBackend implements ComputeBackend {
	readonly name = "local";
	submitCalls = 0;
	constructor(private readonly inner: LocalBackend) {}
	get capabilities() {
		return this.inner.capabilities;
	}
	async submit(job: BackendJob): Promise<Submission> {
		this.submitCalls++;
		const result = await this.inner.submit(job);
		if (this.submitCalls === 1) throw new Error("connection reset after the job was handed over");
		return result;
	}
	poll(refs: readonly string[]) {
		return this.inner.poll(refs);
	}
	find(job: JobIdentity) {
		return this.inner.find(job);
	}
	cancel(ref: string) {
		return this.inner.cancel(ref);
	}
	onChange(listener: (ref: string) => void) {
		this.inner.onChange(listener);
	}
	close() {
		return this.inner.close();
	}
}

const once = {
	workflow: {
		type: "serial",
		specification: { steps: [{ name: "count", commands: ["sleep 0.3; echo ran >> count.log"] }] },
	},
};

describe.each(testDialects)("scheduler durability (%s)", (dialect) => {
	const servers: TestServer[] = [];
	afterAll(async () => {
		for (const s of servers) await s.close();
	});

	it("does not run a job twice when a submission is repeated after an unclear failure", async () => {
		const backend = new FlakySubmitBackend(await LocalBackend.create({ containerRuntime: "none" }));
		const t = await startTestServer(dialect, { backends: new Map([["local", backend]]) });
		servers.push(t);
		const { token } = await t.user("d@example.org");
		await t.call("POST", "/api/workflows?workflow_name=once", { token, body: once });
		await t.call("POST", "/api/workflows/once/start", { token, body: {} });
		const status = (await waitForStatus(t, token, "once")) as { status: string; workspace_path: string };
		expect(status.status).toBe("finished");
		expect(backend.submitCalls).toBeGreaterThanOrEqual(2);
		expect(readFileSync(join(status.workspace_path, "count.log"), "utf8")).toBe("ran\n");
		const logs = JSON.parse(
			((await (await t.call("GET", "/api/workflows/once/logs", { token })).json()) as { logs: string }).logs,
		);
		expect(logs.workflow_logs).toMatch(
			/local unavailable \(connection reset after the job was handed over\); retrying/,
		);
	});

	it("leases a workflow to one scheduler instance at a time", async () => {
		const database = testDatabase(dialect);
		const db = await database.open();
		try {
			const now = new Date();
			const at = now.toISOString();
			await db.kysely
				.insertInto("users")
				.values({ id: "u1", email: "l@example.org", full_name: null, role: "user", created_at: at })
				.execute();
			for (let i = 0; i < 20; i++) {
				await db.kysely
					.insertInto("workflows")
					.values({
						id: `w${i}`,
						name: "lease",
						run_number: i + 1,
						run_minor: 0,
						owner_id: "u1",
						type: "serial",
						status: "queued",
						status_message: null,
						spec: "{}",
						parameters: "{}",
						options: "{}",
						workspace_path: "/nowhere",
						progress: null,
						outputs: null,
						created_at: at,
						updated_at: at,
						started_at: null,
						finished_at: null,
						stop_requested_at: null,
						lease_owner: null,
						lease_expires_at: null,
					})
					.execute();
			}
			const until = new Date(now.getTime() + 30_000).toISOString();
			// Two instances claim at the same moment: every workflow goes to exactly one of them.
			const [a, b] = await Promise.all([
				claimWorkflows(db, "a", at, until, 20),
				claimWorkflows(db, "b", at, until, 20),
			]);
			const ids = [...a, ...b].map((w) => w.id).sort();
			expect(new Set(ids).size).toBe(ids.length);
			expect(ids.length).toBe(20);
			// The holder renews; the other gets nothing until the lease expires.
			expect((await claimWorkflows(db, "a", at, until, 20)).length).toBe(a.length);
			const later = new Date(now.getTime() + 31_000).toISOString();
			const afterExpiry = await claimWorkflows(db, "b", later, new Date(now.getTime() + 60_000).toISOString(), 20);
			expect(afterExpiry.length).toBe(20);
			// Between claims an instance reads only the runs whose lease it holds beyond the given time.
			const held = await listLeasedWorkflows(db, "b", new Date(now.getTime() + 40_000).toISOString(), 50);
			expect(held.map((w) => w.id).sort()).toEqual(afterExpiry.map((w) => w.id).sort());
			expect(await listLeasedWorkflows(db, "b", new Date(now.getTime() + 61_000).toISOString(), 50)).toEqual([]);
			expect(await listLeasedWorkflows(db, "a", at, 50)).toEqual([]);
		} finally {
			await db.close();
			await database.drop();
		}
	});

	it("renews a run's lease a third of the lease apart, not at every tick, and still stops it at once", async () => {
		const t = await startTestServer(dialect);
		servers.push(t);
		const { token } = await t.user("lease@example.org");
		const steps = Array.from({ length: 8 }, (_, i) => ({ name: `s${i}`, commands: ["sleep 0.15"] }));
		await t.call("POST", "/api/workflows?workflow_name=steady", {
			token,
			body: { workflow: { type: "serial", specification: { steps } } },
		});
		await t.call("POST", "/api/workflows/steady/start", { token, body: {} });
		const leases = new Set<string>();
		for (;;) {
			const row = await t.server.db.kysely
				.selectFrom("workflows")
				.select(["status", "lease_expires_at"])
				.where("name", "=", "steady")
				.executeTakeFirstOrThrow();
			if (!["queued", "pending", "running"].includes(row.status)) break;
			if (row.lease_expires_at) leases.add(String(row.lease_expires_at));
			await new Promise((r) => setTimeout(r, 50));
		}
		// Eight steps, dozens of ticks, one claim (the lease lasts 30 s and is renewed every 10 s).
		expect(leases.size).toBe(1);
		expect(((await waitForStatus(t, token, "steady")) as { status: string }).status).toBe("finished");

		steps[0] = { name: "long", commands: ["sleep 30"] };
		await t.call("POST", "/api/workflows?workflow_name=halt", {
			token,
			body: { workflow: { type: "serial", specification: { steps: steps.slice(0, 1) } } },
		});
		await t.call("POST", "/api/workflows/halt/start", { token, body: {} });
		for (;;) {
			const s = (await (await t.call("GET", "/api/workflows/halt/status", { token })).json()) as { status: string };
			if (s.status === "running") break;
			await new Promise((r) => setTimeout(r, 50));
		}
		const asked = Date.now();
		await t.call("PUT", "/api/workflows/halt/status?status=stop", { token, body: {} });
		expect(((await waitForStatus(t, token, "halt")) as { status: string }).status).toBe("stopped");
		expect(Date.now() - asked).toBeLessThan(5_000);
	});
});
