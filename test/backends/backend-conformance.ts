import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { BackendJob, ComputeBackend, JobObservation, JobResources } from "../../src/backends/index.js";

/** What a backend's test file supplies to the conformance suite. */
export interface ConformanceHarness {
	/** A new backend instance; a second call stands for a restarted server. */
	create(): Promise<ComputeBackend>;
	/** Where workspaces go (must be visible to the backend's nodes); default a new tmpdir. */
	root?: string;
	/** How long a job may wait in the queue (a shared cluster runs few jobs at once). */
	queueTimeoutMs: number;
	/** Commands the backend has issued on its scheduler so far, when it counts them. */
	commandCount?(backend: ComputeBackend): number;
	/** The shortest time limit the backend can enforce, and how late it may stop the job after it. */
	timeLimit: { seconds: number; graceMs: number };
	/** A job that prints what it was granted, when the backend honours resources. */
	resources?: { request: JobResources; command: string; expected: string };
}

let seq = 0;

/** The conformance suite every ComputeBackend passes, test doubles included. */
export function describeBackendConformance(title: string, harness: ConformanceHarness): void {
	describe(title, () => {
		let root: string;
		let backend: ComputeBackend;
		const slow = harness.queueTimeoutMs + 30_000;

		beforeAll(async () => {
			root = harness.root ? mkdtempSync(join(harness.root, "conformance-")) : mkdtempSync(join(tmpdir(), "orrery-bc-"));
			backend = await harness.create();
		});
		afterAll(async () => {
			await backend?.close();
			if (root) rmSync(root, { recursive: true, force: true });
		});

		function job(command: string, resources: JobResources = {}): BackendJob {
			seq++;
			const id = `conf${process.pid}x${seq}x${Date.now().toString(36)}`;
			const workspace = join(root, `ws-${seq}`);
			const jobDir = join(workspace, ".orrery", "jobs", `${String(seq).padStart(5, "0")}-step-1`);
			const workdir = join(workspace, "work");
			mkdirSync(jobDir, { recursive: true });
			mkdirSync(workdir, { recursive: true });
			return {
				id,
				jobDir,
				workspace,
				workdir,
				command,
				env: { ORRERY_WORKSPACE: workspace, ORRERY_JOB_ID: id, GREETING: "hello 'quoted' world" },
				resources,
				options: {},
			};
		}

		async function until(
			b: ComputeBackend,
			ref: string,
			done: (o: JobObservation) => boolean,
			timeoutMs = slow,
		): Promise<JobObservation> {
			const end = Date.now() + timeoutMs;
			let last: JobObservation | undefined;
			while (Date.now() < end) {
				last = (await b.poll([ref])).get(ref);
				if (last && done(last)) return last;
				await new Promise((r) => setTimeout(r, 500));
			}
			throw new Error(`job ${ref} did not get there in ${timeoutMs} ms; last seen ${JSON.stringify(last)}`);
		}
		const ended = (o: JobObservation) => o.state === "exited" || o.state === "lost";

		it(
			"runs the command in its workdir with its environment and records stdout, stderr and exit code 0",
			async () => {
				const j = job('echo "$GREETING"; echo to-stderr >&2; pwd > where.txt');
				const { ref } = await backend.submit(j);
				const obs = await until(backend, ref, ended);
				expect(obs).toMatchObject({ state: "exited", exitCode: 0 });
				expect(readFileSync(join(j.jobDir, "stdout"), "utf8")).toBe("hello 'quoted' world\n");
				expect(readFileSync(join(j.jobDir, "stderr"), "utf8")).toBe("to-stderr\n");
				expect(readFileSync(join(j.workdir, "where.txt"), "utf8").trim()).toBe(j.workdir);
			},
			slow,
		);

		it(
			"reports the command's own non-zero exit code",
			async () => {
				const { ref } = await backend.submit(job("echo failing; exit 7"));
				expect(await until(backend, ref, ended)).toMatchObject({ state: "exited", exitCode: 7 });
			},
			slow,
		);

		it(
			"observes many jobs with one batched poll and never reports an unknown ref as alive or exited",
			async () => {
				const jobs = [0, 1, 2, 3, 4].map((i) => job(`exit ${i}`));
				const refs = [];
				for (const j of jobs) refs.push((await backend.submit(j)).ref);
				for (const ref of refs) await until(backend, ref, ended, slow * 2);
				const before = harness.commandCount?.(backend);
				const seen = await backend.poll([...refs, "no-such-job"]);
				if (before !== undefined) expect(harness.commandCount?.(backend)).toBeLessThanOrEqual(before + 2);
				expect(refs.map((r) => seen.get(r))).toEqual(
					[0, 1, 2, 3, 4].map((c) => expect.objectContaining({ state: "exited", exitCode: c })),
				);
				// The interface asks for unknown refs to be absent; reporting them lost is tolerated (local does).
				expect([undefined, "lost"]).toContain(seen.get("no-such-job")?.state);
			},
			slow * 3,
		);

		it(
			"cancels a running job together with every process it started",
			async () => {
				const j = job("sleep 300 & echo $! > child.pid; wait");
				const { ref } = await backend.submit(j);
				await until(backend, ref, (o) => o.state === "running" && existsSync(join(j.workdir, "child.pid")));
				const child = Number(readFileSync(join(j.workdir, "child.pid"), "utf8"));
				await backend.cancel(ref);
				const obs = await until(backend, ref, ended, 60_000);
				if (obs.state === "exited") expect(obs.exitCode).not.toBe(0);
				await expectGone(child, 20_000);
				await backend.cancel(ref); // a second cancel of an ended job is not an error
			},
			slow + 90_000,
		);

		it(
			"runs a job once however often it is submitted",
			async () => {
				const j = job("echo ran >> ../count.txt");
				const first = await backend.submit(j);
				const second = await backend.submit(j);
				expect(second.ref).toBe(first.ref);
				await until(backend, first.ref, ended);
				expect(readFileSync(join(j.workspace, "count.txt"), "utf8")).toBe("ran\n");
			},
			slow,
		);

		it(
			"re-attaches after a restart: a new instance finds running and ended jobs, with no duplicates",
			async () => {
				const before = await harness.create();
				const jobs = [job("sleep 4; echo ran >> ../count.txt"), job("echo ran >> ../count.txt; exit 3")];
				const refs = [];
				for (const j of jobs) refs.push((await before.submit(j)).ref);
				await until(before, refs[0] as string, (o) => o.state !== "queued");
				await before.close();
				const after = await harness.create();
				try {
					for (const [i, j] of jobs.entries()) expect((await after.submit(j)).ref).toBe(refs[i]);
					expect(await until(after, refs[0] as string, ended)).toMatchObject({ state: "exited", exitCode: 0 });
					expect(await until(after, refs[1] as string, ended)).toMatchObject({ state: "exited", exitCode: 3 });
					for (const j of jobs) expect(readFileSync(join(j.workspace, "count.txt"), "utf8")).toBe("ran\n");
				} finally {
					await after.close();
				}
			},
			slow * 2,
		);

		it(
			"stops a job at its time limit (itself, or through the scheduler's cancel when it cannot)",
			async () => {
				const { seconds, graceMs } = harness.timeLimit;
				const j = job("sleep 600", { timeLimitSeconds: seconds });
				const { ref } = await backend.submit(j);
				const running = await until(backend, ref, (o) => o.state === "running");
				const started = running.state === "running" && running.startedAt ? running.startedAt.getTime() : Date.now();
				if (!backend.capabilities.enforcesTimeLimit) {
					// What the scheduler does for such backends: cancel once the limit has passed.
					await new Promise((r) => setTimeout(r, Math.max(0, started + seconds * 1000 - Date.now())));
					await backend.cancel(ref);
				}
				const obs = await until(backend, ref, ended, seconds * 1000 + graceMs);
				if (obs.state === "exited") expect(obs.exitCode).not.toBe(0);
				if (backend.capabilities.enforcesTimeLimit)
					expect(obs).toMatchObject({ reason: expect.stringMatching(/time limit/) });
				expect(Date.now() - started).toBeGreaterThanOrEqual(seconds * 1000 - 2000);
			},
			slow + harness.timeLimit.seconds * 1000 + harness.timeLimit.graceMs,
		);

		it(
			harness.resources
				? "grants the cpus and memory a job asks for"
				: "accepts a job that asks for cpus and memory it does not enforce, and runs it",
			async () => {
				const probe = harness.resources ?? {
					command: "echo ran",
					request: { cpus: 1, memoryMiB: 64 },
					expected: "ran",
				};
				const j = job(probe.command, probe.request);
				const { ref } = await backend.submit(j);
				expect(await until(backend, ref, ended)).toMatchObject({ state: "exited", exitCode: 0 });
				expect(readFileSync(join(j.jobDir, "stdout"), "utf8").trim()).toBe(probe.expected);
			},
			slow,
		);

		it(
			"submits a batch (one submission per job, in order) that runs each job once",
			async () => {
				const jobs = Array.from({ length: 12 }, (_, i) => job(`echo ${i} >> ../count.txt; exit ${i % 3}`));
				const batch = backend.submitBatch
					? await backend.submitBatch(jobs)
					: await Promise.all(jobs.map((j) => backend.submit(j)));
				expect(batch).toHaveLength(12);
				expect(new Set(batch.map((s) => s.ref)).size).toBe(12);
				if (backend.submitBatch)
					expect((await backend.submitBatch(jobs)).map((s) => s.ref)).toEqual(batch.map((s) => s.ref));
				const end = Date.now() + slow * 4;
				let seen = new Map<string, JobObservation>();
				while (Date.now() < end) {
					seen = await backend.poll(batch.map((s) => s.ref));
					if ([...seen.values()].filter(ended).length === 12) break;
					await new Promise((r) => setTimeout(r, 1000));
				}
				expect(batch.map((s) => seen.get(s.ref))).toEqual(
					jobs.map((_, i) => expect.objectContaining({ state: "exited", exitCode: i % 3 })),
				);
				jobs.forEach((j, i) => {
					expect(readFileSync(join(j.workspace, "count.txt"), "utf8")).toBe(`${i}\n`);
				});
			},
			slow * 5,
		);
	});
}

async function expectGone(pid: number, timeoutMs: number): Promise<void> {
	const end = Date.now() + timeoutMs;
	while (Date.now() < end) {
		try {
			process.kill(pid, 0);
		} catch {
			return;
		}
		await new Promise((r) => setTimeout(r, 200));
	}
	throw new Error(`process ${pid} started by the job is still alive after cancel`);
}
