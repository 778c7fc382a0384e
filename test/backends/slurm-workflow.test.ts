import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { BackendJob, ComputeBackend, JobIdentity, JobObservation, Submission } from "../../src/backends/index.js";
import { SlurmBackend } from "../../src/backends/slurm/index.js";
import { startTestServer, type TestServer, waitForStatus } from "../support/test-server.js";
import { slurmEnv } from "./slurm-service.js";

slurmEnv();

const slurmSettings = {
	pollIntervalMs: 1000,
	maxActiveJobs: 1000,
	arrayThreshold: 10,
	maxArraySize: 1000,
	commandTimeoutMs: 60_000,
	transport: "cli" as const,
	staging: "shared" as const,
};

/** The real Slurm backend whose first observation of one job is a node failure, as NODE_FAIL would give. */
class NodeFailOnceBackend implements ComputeBackend {
	readonly name = "slurm";
	private failed = false;
	constructor(private readonly inner: SlurmBackend) {}
	get capabilities() {
		return this.inner.capabilities;
	}
	submit(job: BackendJob): Promise<Submission> {
		return this.inner.submit(job);
	}
	async poll(refs: readonly string[]): Promise<Map<string, JobObservation>> {
		const seen = await this.inner.poll(refs);
		const first = refs[0];
		if (!this.failed && first && seen.get(first)?.state === "running") {
			this.failed = true;
			await this.inner.cancel(first);
			seen.set(first, { state: "lost", reason: "the node running the job failed (Slurm NODE_FAIL)" });
		}
		return seen;
	}
	find(job: JobIdentity) {
		return this.inner.find(job);
	}
	cancel(ref: string) {
		return this.inner.cancel(ref);
	}
	close() {
		return this.inner.close();
	}
}

async function run(t: TestServer, token: string, name: string, steps: unknown[], timeoutMs: number) {
	const spec = { workflow: { type: "serial", specification: { steps } } };
	expect((await t.call("POST", `/api/workflows?workflow_name=${name}`, { token, body: spec })).status).toBe(201);
	expect((await t.call("POST", `/api/workflows/${name}/start`, { token, body: {} })).ok).toBe(true);
	return (await waitForStatus(t, token, name, timeoutMs)) as {
		status: string;
		workspace_path: string;
		progress: unknown;
	};
}

async function logsOf(t: TestServer, token: string, name: string): Promise<string> {
	const body = (await (await t.call("GET", `/api/workflows/${name}/logs`, { token })).json()) as { logs: string };
	return body.logs;
}

describe("REANA serial workflows on the live one-node Slurm (compute_backend: slurmcern)", () => {
	let t: TestServer;
	let token: string;
	beforeAll(async () => {
		const file = join(process.env.TMPDIR ?? "/tmp", `orrery-backends-${process.pid}.yaml`);
		writeFileSync(file, `backends:\n  local: {}\n  slurm:\n    pollIntervalMs: 1000\n`);
		t = await startTestServer("sqlite", { env: { ORRERY_BACKENDS_FILE: file } });
		token = (await t.user("slurm@example.org")).token;
	});
	afterAll(async () => {
		await t?.close();
	});

	it("runs the steps on Slurm, in the partition each step names, and finishes", async () => {
		const status = await run(
			t,
			token,
			"onslurm",
			[
				{ name: "make", compute_backend: "slurmcern", commands: ["echo $SLURM_JOB_PARTITION > made.txt"] },
				{
					name: "use",
					compute_backend: "slurmcern",
					slurm_partition: "long",
					commands: ["cat made.txt > used.txt; echo $SLURM_JOB_PARTITION >> used.txt"],
				},
			],
			120_000,
		);
		expect(status.status).toBe("finished");
		expect(readFileSync(join(status.workspace_path, "used.txt"), "utf8")).toBe("debug\nlong\n");
	}, 150_000);

	it("fails the run with Slurm's time-limit message when a step exceeds slurm_time", async () => {
		const status = (await run(
			t,
			token,
			"toolong",
			[{ name: "slow", compute_backend: "slurmcern", slurm_time: "1", commands: ["sleep 600"] }],
			200_000,
		)) as unknown as { status: string; message?: string };
		expect(status.status).toBe("failed");
		expect(await logsOf(t, token, "toolong")).toMatch(
			/Slurm stopped the job at its time limit \(1\) \(TIMEOUT\); raise slurm_time/,
		);
	}, 230_000);

	it("retries a step after a node failure when the step allows retries", async () => {
		const backend = new NodeFailOnceBackend(new SlurmBackend(slurmSettings));
		const r = await startTestServer("sqlite", {
			backends: new Map<string, ComputeBackend>([["slurm", backend]]),
			env: { ORRERY_DEFAULT_BACKEND: "slurm" },
		});
		try {
			const tok = (await r.user("retry@example.org")).token;
			// The first attempt waits long enough to be seen running (and failed) however slowly squeue
			// answers on a busy machine, and never writes (Slurm's SIGTERM may reach `sleep` a moment before
			// its shell, which would otherwise go on to the echo); the retry finds its mark and writes at once.
			const status = await run(
				r,
				tok,
				"retried",
				[
					{
						name: "flaky",
						compute_backend: "slurmcern",
						retries: 1,
						commands: ["[ -e first.mark ] || { touch first.mark; sleep 60; exit 1; }; echo done >> out.txt"],
					},
				],
				120_000,
			);
			expect(status.status).toBe("finished");
			expect(readFileSync(join(status.workspace_path, "out.txt"), "utf8")).toBe("done\n");
			expect(await logsOf(r, tok, "retried")).toMatch(/NODE_FAIL.*retrying \(attempt 2 of 2\)/);
		} finally {
			await r.close();
		}
	}, 150_000);
});
