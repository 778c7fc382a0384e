import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CommandRunner } from "../../src/backends/command-runner.js";
import type { BackendJob, JobObservation } from "../../src/backends/index.js";
import { SlurmBackend, type SlurmConfig } from "../../src/backends/slurm/index.js";
import { SlurmCli, type SlurmTransport } from "../../src/backends/slurm/slurm-cli.js";
import { describeBackendConformance } from "./backend-conformance.js";
import { servicesDir, slurmEnv } from "./slurm-service.js";

slurmEnv();

// Settings of the live tests: poll often, arrays from 10 jobs.
const liveSlurmConfig: SlurmConfig = {
	pollIntervalMs: 1000,
	maxActiveJobs: 1000,
	arrayThreshold: 10,
	maxArraySize: 1000,
	commandTimeoutMs: 60_000,
	transport: "cli",
	staging: "shared",
};

// The real one-node Slurm of ../shared/services/slurm.sh: two jobs run at once, the rest queue.
describeBackendConformance("slurm backend via sbatch/squeue/sacct (live, one-node Slurm)", {
	create: () => SlurmBackend.create(liveSlurmConfig),
	root: "/tmp",
	queueTimeoutMs: 120_000,
	commandCount: (b) => (b as SlurmBackend).commandsIssued,
	// Slurm counts whole minutes and checks limits about every 30 s.
	timeLimit: { seconds: 60, graceMs: 90_000 },
	resources: {
		request: { cpus: 2, memoryMiB: 100 },
		// What slurmctld granted (sbatch's own SLURM_* variables are not set for slurmrestd jobs).
		command: `scontrol show job "$SLURM_JOB_ID" | tr ' ' '\\n' | grep -E '^(NumCPUs|MinMemoryNode)=' | sort | tr '\\n' ' '`,
		expected: "MinMemoryNode=100M NumCPUs=2",
	},
});

describe("slurm backend specifics (live, one-node Slurm)", () => {
	let root: string;
	let n = 0;
	beforeAll(() => {
		root = mkdtempSync("/tmp/orrery-slurm-");
	});
	afterAll(() => rmSync(root, { recursive: true, force: true }));

	function job(command: string, options: Record<string, unknown> = {}, resources = {}): BackendJob {
		n++;
		const workspace = join(root, `ws${n}`);
		const jobDir = join(workspace, ".orrery", "jobs", `0000${n}-s-1`);
		mkdirSync(jobDir, { recursive: true });
		return {
			id: `sl${process.pid}x${n}x${Date.now().toString(36)}`,
			jobDir,
			workspace,
			workdir: workspace,
			command,
			env: {},
			resources,
			options,
		};
	}

	async function until(
		b: SlurmBackend,
		ref: string,
		done: (o: JobObservation) => boolean,
		ms = 150_000,
	): Promise<JobObservation> {
		const end = Date.now() + ms;
		let last: JobObservation | undefined;
		while (Date.now() < end) {
			last = (await b.poll([ref])).get(ref);
			if (last && done(last)) return last;
			await new Promise((r) => setTimeout(r, 500));
		}
		throw new Error(`timed out; last ${JSON.stringify(last)}`);
	}
	const ended = (o: JobObservation) => o.state === "exited" || o.state === "lost";
	const slurmId = (ref: string) => ref.split("@")[0] as string;

	it("passes slurm_partition and slurm_time to sbatch", async () => {
		const b = await SlurmBackend.create(liveSlurmConfig);
		const { ref } = await b.submit(job("sleep 30", { slurm_partition: "long", slurm_time: "2" }));
		const shown = execFileSync("scontrol", ["show", "job", slurmId(ref)], { encoding: "utf8" });
		expect(shown).toMatch(/Partition=long/);
		expect(shown).toMatch(/TimeLimit=00:02:00/);
		await b.cancel(ref);
	});

	it("gives the job its owner's secrets (variables and files) while it runs", async () => {
		const b = await SlurmBackend.create(liveSlurmConfig);
		const j = job('echo "$API_TOKEN"; cat "$REANA_SECRETS_DIR/cert.pem"');
		const { ref } = await b.submit({
			...j,
			secrets: { env: { API_TOKEN: "s3cret" }, files: { "cert.pem": Buffer.from("PEM") } },
		});
		expect(await until(b, ref, ended)).toMatchObject({ state: "exited", exitCode: 0 });
		expect(readFileSync(join(j.jobDir, "stdout"), "utf8")).toBe("s3cret\nPEM");
	});

	it("submits with the jobs' environment: the server's settings and credentials do not reach the job through sbatch", async () => {
		const added = { ORRERY_SECRET_KEY: "server-secret-key", AWS_SECRET_ACCESS_KEY: "operator-key", SURVEY: "gaia-dr3" };
		const saved = Object.fromEntries(Object.keys(added).map((k) => [k, process.env[k]]));
		Object.assign(process.env, added);
		try {
			const b = await SlurmBackend.create(liveSlurmConfig);
			const j = job("env");
			const { ref } = await b.submit(j);
			expect(await until(b, ref, ended)).toMatchObject({ state: "exited", exitCode: 0 });
			const seen = readFileSync(join(j.jobDir, "stdout"), "utf8");
			expect(seen).toContain("SURVEY=gaia-dr3\n");
			expect(seen).not.toContain("server-secret-key");
			expect(seen).not.toContain("operator-key");
		} finally {
			for (const [k, v] of Object.entries(saved)) {
				if (v === undefined) delete process.env[k];
				else process.env[k] = v;
			}
		}
	});

	it("refuses a GPU request the cluster cannot satisfy as the user's error (validation_failed)", async () => {
		const b = await SlurmBackend.create(liveSlurmConfig);
		await expect(b.submit(job("true", {}, { gpus: 1 }))).rejects.toMatchObject({ code: "validation_failed" });
	});

	it("submits a large fan-out as one job array (one sbatch) and polls it with one squeue", async () => {
		const b = await SlurmBackend.create(liveSlurmConfig);
		const jobs = Array.from({ length: 25 }, (_, i) => job(`exit ${i % 4}`));
		const before = b.commandsIssued;
		const subs = await b.submitBatch(jobs);
		expect(b.commandsIssued - before).toBe(1);
		expect(new Set(subs.map((s) => slurmId(s.ref).split("_")[0])).size).toBe(1);
		const end = Date.now() + 240_000;
		let seen = new Map<string, JobObservation>();
		while (Date.now() < end) {
			const polled = b.commandsIssued;
			seen = await b.poll(subs.map((s) => s.ref));
			expect(b.commandsIssued - polled).toBeLessThanOrEqual(2);
			if ([...seen.values()].every(ended)) break;
			await new Promise((r) => setTimeout(r, 1000));
		}
		expect(subs.map((s) => seen.get(s.ref))).toEqual(
			jobs.map((_, i) => expect.objectContaining({ state: "exited", exitCode: i % 4 })),
		);
	}, 300_000);

	it("finds a job by its name when sbatch succeeded just before a crash, instead of submitting it again", async () => {
		const j = job("echo once >> count.txt");
		// What a crashed server leaves: the submit record written, sbatch done, the id never recorded.
		const crashed = await SlurmBackend.create(liveSlurmConfig);
		const { ref } = await crashed.submit(j);
		rmSync(join(j.jobDir, "slurm-id"));
		const restarted = await SlurmBackend.create(liveSlurmConfig);
		expect((await restarted.submit(j)).ref).toBe(ref);
		await until(restarted, ref, ended);
		const named = execFileSync("squeue", ["-h", "--states=all", `--name=orrery-${j.id}`, "-o", "%i"], {
			encoding: "utf8",
		});
		expect(named.trim().split("\n")).toHaveLength(1);
		expect(readFileSync(join(j.workspace, "count.txt"), "utf8")).toBe("once\n");
	}, 200_000);

	it("finds and cancels a job whose id was never recorded (a stop after a crash between sbatch and record)", async () => {
		const j = job("sleep 20; echo ran > out.txt");
		const crashed = await SlurmBackend.create(liveSlurmConfig);
		const { ref } = await crashed.submit(j);
		rmSync(join(j.jobDir, "slurm-id"));
		const restarted = await SlurmBackend.create(liveSlurmConfig);
		expect(await restarted.find({ id: j.id, jobDir: j.jobDir })).toBe(ref);
		await restarted.cancel(ref);
		const state = () =>
			execFileSync("squeue", ["-h", "--states=all", `--name=orrery-${j.id}`, "-o", "%T"], { encoding: "utf8" }).trim();
		const end = Date.now() + 30_000;
		while (!/CANCELLED/.test(state()) && Date.now() < end) await new Promise((r) => setTimeout(r, 500));
		expect(state()).toMatch(/CANCELLED/);
		// A job never handed to sbatch is not found.
		expect(await restarted.find({ id: "never-submitted", jobDir: job("true").jobDir })).toBeUndefined();
	}, 60_000);

	it("never reads the end of a second copy that lost the wrapper's lock as the job's result: it follows the copy that runs", async () => {
		const j = job("sleep 8; echo done > out.txt");
		// Two servers submit the same job at the same moment: Slurm gets two copies; one takes the lock.
		const [a, b] = [await SlurmBackend.create(liveSlurmConfig), await SlurmBackend.create(liveSlurmConfig)];
		const [ra, rb] = await Promise.all([a.submit(j), b.submit(j)]);
		expect(ra.ref).not.toBe(rb.ref);
		const end = Date.now() + 120_000;
		const seen: Array<[JobObservation | undefined, JobObservation | undefined, boolean]> = [];
		while (Date.now() < end) {
			const oa = (await a.poll([ra.ref])).get(ra.ref);
			const ob = (await b.poll([rb.ref])).get(rb.ref);
			seen.push([oa, ob, existsSync(join(j.workspace, "out.txt"))]);
			if (oa && ob && ended(oa) && ended(ob)) break;
			await new Promise((r) => setTimeout(r, 1000));
		}
		// Neither copy reads as ended before the command has written its output, and both end with its code.
		for (const [oa, ob, isDone] of seen) {
			if (!isDone) expect([oa?.state, ob?.state]).not.toContain("exited");
			expect([oa?.state, ob?.state]).not.toContain("lost");
		}
		expect(seen.at(-1)?.slice(0, 2)).toEqual([
			expect.objectContaining({ state: "exited", exitCode: 0 }),
			expect.objectContaining({ state: "exited", exitCode: 0 }),
		]);
		expect(readFileSync(join(j.workspace, "out.txt"), "utf8")).toBe("done\n");
		// The copy that lost wrote nothing into the folder; the folder names the copy that runs the job.
		const holder = readFileSync(join(j.jobDir, "holder"), "utf8").trim();
		expect([slurmId(ra.ref), slurmId(rb.ref)]).toContain(holder);
	}, 180_000);

	it("cancels the copy that holds the lock when the recorded copy lost it", async () => {
		const j = job("sleep 60; echo ran > out.txt");
		const [a, b] = [await SlurmBackend.create(liveSlurmConfig), await SlurmBackend.create(liveSlurmConfig)];
		const [ra, rb] = await Promise.all([a.submit(j), b.submit(j)]);
		expect(ra.ref).not.toBe(rb.ref);
		const end = Date.now() + 60_000;
		while (!existsSync(join(j.jobDir, "holder")) && Date.now() < end) await new Promise((r) => setTimeout(r, 500));
		const holder = readFileSync(join(j.jobDir, "holder"), "utf8").trim();
		const loser = slurmId(ra.ref) === holder ? rb.ref : ra.ref;
		await a.cancel(loser);
		const state = () =>
			execFileSync("squeue", ["-h", "--states=all", `--jobs=${holder}`, "-o", "%T"], { encoding: "utf8" }).trim();
		const until = Date.now() + 30_000;
		while (!/CANCELLED/.test(state()) && Date.now() < until) await new Promise((r) => setTimeout(r, 500));
		expect(state()).toMatch(/CANCELLED/);
	}, 120_000);

	it("reads final states from sacct once squeue has forgotten a job (cancelled outside Orrery)", async () => {
		const b = await SlurmBackend.create(liveSlurmConfig);
		const { ref } = await b.submit(job("sleep 300"));
		await until(b, ref, (o) => o.state === "running");
		execFileSync("scancel", [slurmId(ref)]);
		await until(b, ref, ended);
		// Wrap the real transport so the queue has forgotten the job, as after MinJobAge.
		const cli = new SlurmCli(new CommandRunner());
		const forgetful: SlurmTransport = {
			submit: (...a) => cli.submit(...a),
			queue: async () => new Map(),
			accounting: (ids) => cli.accounting(ids),
			findByName: (name) => cli.findByName(name),
			cancel: (ids) => cli.cancel(ids),
		};
		const late = new SlurmBackend(liveSlurmConfig, forgetful);
		const end = Date.now() + 60_000;
		let obs: JobObservation | undefined;
		while (Date.now() < end) {
			obs = (await late.poll([ref])).get(ref);
			if (obs?.state === "exited") break;
			await new Promise((r) => setTimeout(r, 1000)); // slurmdbd may lag a moment
		}
		expect(obs).toMatchObject({ state: "exited", reason: expect.stringMatching(/cancelled on Slurm outside Orrery/) });
	}, 200_000);

	it("keeps a running job when slurmd restarts, and reads its result afterwards", async () => {
		const b = await SlurmBackend.create(liveSlurmConfig);
		const j = job("sleep 8; echo survived");
		const { ref } = await b.submit(j);
		await until(b, ref, (o) => o.state === "running");
		const pid = readFileSync("/run/slurmd.pid", "utf8").trim();
		execFileSync("kill", [pid]);
		await new Promise((r) => setTimeout(r, 3000));
		execFileSync("bash", [resolve(servicesDir, "slurm.sh")], { stdio: "ignore", timeout: 120_000 });
		expect(await until(b, ref, ended)).toMatchObject({ state: "exited", exitCode: 0 });
		expect(readFileSync(join(j.jobDir, "stdout"), "utf8")).toBe("survived\n");
	}, 240_000);
});
