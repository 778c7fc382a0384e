import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CommandRunner } from "../../src/backends/command-runner.js";
import { submittedCluster } from "../../src/backends/htcondor/htcondor-backend.js";
import {
	condorJobSpec,
	HtcondorBackend,
	type HtcondorConfig,
	observeCondorJob,
	parseCondorJson,
	submitDescription,
} from "../../src/backends/htcondor/index.js";
import { type BackendJob, validateBackendSetting } from "../../src/backends/index.js";
import type { JobFolderState } from "../../src/backends/job-folder.js";

const fixtures = resolve(import.meta.dirname, "../fixtures/htcondor");
const fixture = (name: string) => readFileSync(join(fixtures, name), "utf8");

const plain: HtcondorConfig = {
	flavour: "htcondor",
	containerUniverse: false,
	fileTransfer: "shared",
	pollIntervalMs: 15_000,
	maxActiveJobs: 100,
	batchThreshold: 3,
	commandTimeoutMs: 10_000,
};
const c4p: HtcondorConfig = { ...plain, flavour: "compute4punch", accountingGroup: "punch" };

function job(overrides: Partial<BackendJob> = {}): BackendJob {
	return {
		id: "6f1c2d",
		jobDir: "/ws/w1/.orrery/jobs/00001-fit-1",
		workspace: "/ws/w1",
		workdir: "/ws/w1",
		command: "python fit.py",
		env: {},
		resources: { cpus: 2, memoryMiB: 4096 },
		options: {},
		...overrides,
	};
}

/** Submit-language lines: `key = value`, `+Attr = value`, comments, `queue …` and its item list. */
function checkSyntax(description: string): void {
	let inList = false;
	for (const line of description.trimEnd().split("\n")) {
		if (inList) {
			if (line === ")") inList = false;
			else expect(line).toMatch(/^ {2}[A-Za-z0-9-]+, \/\S+$/);
			continue;
		}
		if (line.startsWith("#")) continue;
		if (/^queue \w+(, \w+)* from \($/.test(line)) {
			inList = true;
			continue;
		}
		expect(line).toMatch(/^(\+?[A-Za-z_][A-Za-z0-9_]* = \S.*|queue 1)$/);
	}
	expect(inList).toBe(false);
	expect(
		description
			.trimEnd()
			.split("\n")
			.filter((l) => l.startsWith("queue")),
	).toHaveLength(1);
}

describe("htcondor (offline: generated submit files and captured outputs)", () => {
	it("runs the job-folder wrapper in its folder on the shared filesystem, tagged with Orrery's job id", () => {
		const text = submitDescription([job()], condorJobSpec(job(), plain), plain);
		checkSyntax(text);
		expect(text).toContain("executable = /bin/sh\narguments = $(OrreryJobDir)/run.sh");
		expect(text).toContain("initialdir = $(OrreryJobDir)");
		expect(text).toContain("should_transfer_files = NO");
		expect(text).toContain('+OrreryJobId = "$(OrreryJobId)"');
		expect(text).toContain("request_cpus = 2\nrequest_memory = 4096");
		expect(text).toMatch(/OrreryJobId = 6f1c2d\nOrreryJobDir = \/ws\/w1\/\.orrery\/jobs\/00001-fit-1\nqueue 1\n$/);
	});

	it("maps REANA's htcondor_max_runtime and htcondor_accounting_group (Compute4PUNCH)", () => {
		const j = job({
			image: "reanahub/reana-env-root6:6.18.04",
			options: { htcondor_max_runtime: "3600", htcondor_accounting_group: "group_u_punch.alice" },
			resources: { cpus: 1, timeLimitSeconds: 3600 },
		});
		const text = submitDescription([j], condorJobSpec(j, c4p), c4p);
		checkSyntax(text);
		expect(text).toContain("+MaxRuntime = 3600");
		expect(text).not.toContain("periodic_remove");
		expect(text).toContain("accounting_group = group_u_punch.alice");
		expect(text).toContain('+SINGULARITY_JOB_CONTAINER = "docker://reanahub/reana-env-root6:6.18.04"');
		expect(text).toContain("universe = vanilla");
	});

	it("enforces the limit on plain pools with periodic_remove, and takes CERN's job flavours", () => {
		const limited = job({ resources: { timeLimitSeconds: 90 } });
		expect(submitDescription([limited], condorJobSpec(limited, plain), plain)).toContain(
			"periodic_remove = (JobStatus == 2) && ((time() - EnteredCurrentStatus) > 90)",
		);
		const flavour = job({ options: { htcondor_max_runtime: "espresso" } });
		expect(submitDescription([flavour], condorJobSpec(flavour, plain), plain)).toContain('+JobFlavour = "espresso"');
		expect(() => condorJobSpec(job({ options: { htcondor_max_runtime: "forever" } }), plain)).toThrow(/espresso/);
	});

	it("runs images in the container universe when the pool offers it, else on the host", () => {
		const j = job({ image: "python:3.12" });
		const text = submitDescription([j], condorJobSpec(j, { ...plain, containerUniverse: true }), {
			...plain,
			containerUniverse: true,
		});
		expect(text).toContain("universe = container\ncontainer_image = docker://python:3.12");
		expect(submitDescription([j], condorJobSpec(j, plain), plain)).not.toContain("container_image");
	});

	it("submits many jobs with equal settings as one cluster with a queue-from list", () => {
		const jobs = [1, 2, 3].map((i) => job({ id: `j${i}`, jobDir: `/ws/w1/.orrery/jobs/0000${i}-s-1` }));
		const text = submitDescription(jobs, condorJobSpec(jobs[0] as BackendJob, plain), plain);
		checkSyntax(text);
		expect(text).toMatch(/queue OrreryJobId, OrreryJobDir from \(\n {2}j1, \/ws\/w1\/\.orrery\/jobs\/00001-s-1\n/);
	});

	it("keeps the shared filesystem unless `fileTransfer: transfer` is set, and refuses other modes", async () => {
		const setting = async (settings: Record<string, unknown>) =>
			(await validateBackendSetting({ name: "c4p", kind: "htcondor", settings })) as HtcondorConfig;
		expect((await setting({})).fileTransfer).toBe("shared");
		expect(new HtcondorBackend(await setting({})).capabilities.sharedFilesystem).toBe(true);
		expect(new HtcondorBackend(await setting({ fileTransfer: "transfer" })).capabilities.sharedFilesystem).toBe(false);
		await expect(setting({ fileTransfer: "spool" })).rejects.toThrow(/c4p\.fileTransfer/);
	});

	it("runs Compute4PUNCH images with file transfer: the container gets the scratch directory, not the job folder", () => {
		const config: HtcondorConfig = { ...c4p, fileTransfer: "transfer" };
		const j = job({ image: "python:3.12", resources: {} });
		const text = submitDescription([j], condorJobSpec(j, config), config);
		checkSyntax(text);
		expect(text).toContain("arguments = run.sh\n");
		expect(text).toContain(
			"should_transfer_files = YES\nwhen_to_transfer_output = ON_EXIT\ntransfer_input_files = run.sh, workspace-in.tar\n",
		);
		expect(text).toContain('+SINGULARITY_JOB_CONTAINER = "docker://python:3.12"');
		expect(text).not.toContain("should_transfer_files = NO");
	});

	it("fails a job held for exceeding the pool's transfer limits, without a retry", () => {
		const held = { ClusterId: 1, ProcId: 0, JobStatus: 5, HoldReasonCode: 32 };
		const reason = "TransferInputSizeMB (20480) is greater than MAX_TRANSFER_INPUT_MB (10240) at submit time";
		expect(observeCondorJob({ ...held, HoldReason: reason }, { hasStarted: false })).toMatchObject({
			state: "exited",
			exitCode: 1,
			reason: expect.stringMatching(/would not transfer the job's files .*MAX_TRANSFER_INPUT_MB/),
		});
	});

	it("parses captured condor_q -json output (HTCondor 8.8) of a running job", () => {
		const [ad] = parseCondorJson(fixture("condor_q-running-8.8.json"));
		expect(ad).toMatchObject({ ClusterId: 3472942, ProcId: 81, JobStatus: 2 });
		expect(observeCondorJob(ad, { hasStarted: false })).toEqual({
			state: "running",
			startedAt: new Date(1617115471 * 1000),
		});
	});

	it("parses the JSON printer's layout (ads separated by a comma line) and an empty answer", () => {
		const ads = parseCondorJson(fixture("condor-json-printer-layout.json"));
		expect(ads.map((a) => `${a.ClusterId}.${a.ProcId}:${a.JobStatus}`)).toEqual(["1.2:5", "2.1:3"]);
		expect(parseCondorJson("")).toEqual([]);
		expect(parseCondorJson("[]\n")).toEqual([]);
	});

	it("maps ended jobs from condor_history: completed, time limit, out of memory, infrastructure hold", () => {
		const [done, removed, oom, transfer] = parseCondorJson(fixture("condor_history-derived.json"));
		const started: JobFolderState = { hasStarted: true };
		expect(observeCondorJob(done, started)).toMatchObject({ state: "exited", exitCode: 0 });
		expect(observeCondorJob(done, { hasStarted: true, exitCode: 4 })).toMatchObject({ state: "exited", exitCode: 4 });
		expect(observeCondorJob(removed, started)).toMatchObject({
			state: "exited",
			exitCode: 143,
			reason: expect.stringMatching(/time limit/),
		});
		expect(observeCondorJob(oom, started)).toMatchObject({
			state: "exited",
			exitCode: 137,
			reason: expect.stringMatching(/^out of memory/),
		});
		expect(observeCondorJob(transfer, started)).toMatchObject({ state: "lost" });
	});

	it("reads the cluster of condor_submit -terse and classifies its errors", () => {
		expect(submittedCluster({ stdout: "4711.0 - 4711.9\n", stderr: "", exitCode: 0 })).toBe("4711");
		expect(() =>
			submittedCluster({ stdout: "", stderr: "ERROR: on line 12 of submit file: bad value", exitCode: 1 }),
		).toThrow(expect.objectContaining({ code: "validation_failed" }));
		expect(() =>
			submittedCluster({ stdout: "", stderr: "ERROR: Can't find address of local schedd", exitCode: 1 }),
		).toThrow(expect.objectContaining({ code: "backend_unavailable" }));
	});

	it("runs the tools on the login node over SSH with the bearer token file", () => {
		const config: HtcondorConfig = {
			...c4p,
			schedd: "schedd.c4p.example",
			ssh: { host: "login.c4p.example", user: "alice" },
			bearerToken: { file: "/home/alice/.token" },
		};
		const backend = new HtcondorBackend(config);
		const argv = backend.command("condor_q", ["-json", "4711"]);
		expect(argv).toEqual([
			"env",
			"BEARER_TOKEN_FILE=/home/alice/.token",
			"condor_q",
			"-name",
			"schedd.c4p.example",
			"-json",
			"4711",
		]);
		expect(backend.runner.argv(argv)).toEqual([
			"ssh",
			"-o",
			"BatchMode=yes",
			"alice@login.c4p.example",
			"--",
			"'env' 'BEARER_TOKEN_FILE=/home/alice/.token' 'condor_q' '-name' 'schedd.c4p.example' '-json' '4711'",
		]);
	});
});

describe("htcondor (offline: the backend against stand-in condor_* scripts that print the captured outputs)", () => {
	let bin: string;
	let root: string;
	let log: string;
	beforeAll(() => {
		root = mkdtempSync(join(tmpdir(), "orrery-condor-"));
		bin = join(root, "bin");
		log = join(root, "calls.log");
		mkdirSync(bin);
		const tool = (name: string, body: string) => {
			writeFileSync(join(bin, name), `#!/bin/sh\necho "${name} $*" >> '${log}'\n${body}\n`);
			chmodSync(join(bin, name), 0o755);
		};
		tool("condor_submit", "cat > /dev/null; echo '3472942.81 - 3472942.81'");
		tool("condor_q", `cat '${join(fixtures, "condor_q-running-8.8.json")}'`);
		tool("condor_history", `cat '${join(fixtures, "condor_history-derived.json")}'`);
		tool("condor_rm", "echo 'All jobs matching constraint removed.'");
	});
	afterAll(() => rmSync(root, { recursive: true, force: true }));

	it("observes all jobs with one condor_q and one condor_history, and removes held jobs it reported", async () => {
		const runner = new CommandRunner({ env: { PATH: `${bin}:${process.env.PATH}` } });
		const backend = new HtcondorBackend(plain, runner);
		const dir = (p: number) => join(root, `job${p}`);
		const refs = [81, 82, 83, 84].map((p) => `3472942.${p}@${dir(p)}`);
		const seen = await backend.poll(refs);
		// By ref: the backend fills the map as each job's answer comes, in no fixed order.
		expect(refs.map((r) => seen.get(r)?.state)).toEqual(["running", "exited", "exited", "lost"]);
		const calls = readFileSync(log, "utf8").trim().split("\n");
		expect(calls.filter((c) => c.startsWith("condor_q"))).toHaveLength(1);
		expect(calls.filter((c) => c.startsWith("condor_history"))).toEqual([
			expect.stringContaining("-constraint member(ClusterId, {3472942})"),
		]);
		expect(calls.at(-1)).toBe("condor_rm 3472942.83 3472942.84");
	});

	it("submits through condor_submit and answers a ref with the cluster and process", async () => {
		const runner = new CommandRunner({ env: { PATH: `${bin}:${process.env.PATH}` } });
		const backend = new HtcondorBackend(plain, runner);
		const jobDir = join(root, "ws", ".orrery", "jobs", "00001-s-1");
		mkdirSync(jobDir, { recursive: true });
		const sub = await backend.submit(job({ jobDir, workspace: join(root, "ws"), workdir: join(root, "ws") }));
		expect(sub.ref).toBe(`3472942.0@${jobDir}`);
		// On a shared filesystem the command is in the wrapper itself: one file per job instead of two.
		expect(readFileSync(join(jobDir, "run.sh"), "utf8")).toContain("python fit.py");
		expect(existsSync(join(jobDir, "command.sh"))).toBe(false);
		// Submitting again answers the recorded id without calling condor_submit.
		const before = runner.commandsIssued;
		expect((await backend.submit(job({ jobDir, workspace: join(root, "ws"), workdir: join(root, "ws") }))).ref).toBe(
			sub.ref,
		);
		expect(runner.commandsIssued).toBe(before);
	});
});

describe("htcondor (offline: stand-in condor_* tools for a schedd that cannot be reached for a moment)", () => {
	let root: string;
	beforeAll(() => {
		root = mkdtempSync(join(tmpdir(), "orrery-condor-down-"));
	});
	afterAll(() => rmSync(root, { recursive: true, force: true }));

	/**
	 * Tools whose first condor_submit takes the job but loses the answer, and whose first condor_q and
	 * condor_history fail as an unreachable schedd does; afterwards condor_q lists the job taken.
	 */
	function standIns(jobId: string): { runner: CommandRunner; calls: () => string[] } {
		const bin = join(root, "bin");
		const log = join(root, "calls.log");
		mkdirSync(bin, { recursive: true });
		const tool = (name: string, body: string) => {
			writeFileSync(join(bin, name), `#!/bin/sh\necho "${name} $*" >> '${log}'\n${body}\n`);
			chmodSync(join(bin, name), 0o755);
		};
		const once = (name: string, first: string, later: string) =>
			`if [ ! -e '${root}/${name}.done' ]; then : > '${root}/${name}.done'; ${first}; fi; ${later}`;
		const ad = `[{"ClusterId": 4242, "ProcId": 0, "JobStatus": 2, "OrreryJobId": "${jobId}"}]`;
		tool(
			"condor_submit",
			once(
				"submit",
				"cat > /dev/null; echo 'ERROR: lost the connection to the schedd' >&2; exit 1",
				"cat > /dev/null; echo '4300.0 - 4300.0'",
			),
		);
		tool(
			"condor_q",
			once("q", "echo 'Failed to connect to <10.0.0.1:9618>: schedd unreachable' >&2; exit 1", `echo '${ad}'`),
		);
		tool("condor_history", once("history", "echo 'Failed to connect to the schedd' >&2; exit 1", "echo '[]'"));
		return {
			runner: new CommandRunner({ env: { PATH: `${bin}:${process.env.PATH}` } }),
			calls: () => readFileSync(log, "utf8").trim().split("\n"),
		};
	}

	it("does not submit a job again when condor_q fails after a submission that went through", async () => {
		const jobDir = join(root, "ws", ".orrery", "jobs", "00001-s-1");
		mkdirSync(jobDir, { recursive: true });
		const j = job({ id: "7d1e00", jobDir, workspace: join(root, "ws"), workdir: join(root, "ws") });
		const { runner, calls } = standIns(j.id);
		const backend = new HtcondorBackend(plain, runner);
		// The schedd took the job, but condor_submit's answer was lost.
		await expect(backend.submit(j)).rejects.toMatchObject({ code: "backend_unavailable" });
		// The schedd cannot be asked whether it has the job: that is no "never submitted".
		await expect(backend.submit(j)).rejects.toMatchObject({ code: "backend_unavailable", retryable: true });
		// Once it answers, the job is found by its OrreryJobId, not submitted again.
		expect((await backend.submit(j)).ref).toBe(`4242.0@${jobDir}`);
		expect(calls().filter((c) => c.startsWith("condor_submit"))).toHaveLength(1);
		// A stop of the job finds it the same way, without its ref having been recorded.
		expect(await backend.find({ id: j.id, jobDir })).toBe(`4242.0@${jobDir}`);
	});
});

describe("htcondor (offline: stand-in condor_q for two copies of one job, one of which lost the wrapper's lock)", () => {
	let root: string;
	beforeAll(() => {
		root = mkdtempSync(join(tmpdir(), "orrery-condor-copies-"));
	});
	afterAll(() => rmSync(root, { recursive: true, force: true }));

	it("follows the copy that holds the lock instead of taking the other copy's end as the job's result", async () => {
		const bin = join(root, "bin");
		mkdirSync(bin);
		const answer = join(root, "condor_q.json");
		writeFileSync(join(bin, "condor_q"), `#!/bin/sh\ncat '${answer}'\n`);
		writeFileSync(join(bin, "condor_history"), "#!/bin/sh\necho '[]'\n");
		for (const t of ["condor_q", "condor_history"]) chmodSync(join(bin, t), 0o755);
		const backend = new HtcondorBackend(plain, new CommandRunner({ env: { PATH: `${bin}:${process.env.PATH}` } }));
		const jobDir = join(root, "job");
		mkdirSync(jobDir);
		// The recorded copy (500.0) found the lock held by the other (501.0), changed nothing and exited 97.
		writeFileSync(join(jobDir, "pid"), "4242\n");
		writeFileSync(join(jobDir, "holder"), "501.0\n");
		const loser = { ClusterId: 500, ProcId: 0, JobStatus: 4, ExitCode: 97 };
		const ref = `500.0@${jobDir}`;
		writeFileSync(answer, JSON.stringify([loser, { ClusterId: 501, ProcId: 0, JobStatus: 2 }]));
		expect((await backend.poll([ref])).get(ref)).toMatchObject({ state: "running" });
		writeFileSync(join(jobDir, "exit-code"), "3\n");
		expect((await backend.poll([ref])).get(ref)).toMatchObject({ state: "exited", exitCode: 3 });
		rmSync(join(jobDir, "exit-code"));
		writeFileSync(answer, JSON.stringify([loser]));
		expect((await backend.poll([ref])).get(ref)).toMatchObject({ state: "lost" });
		// Without a holder recorded, the copy's reserved exit code is still never read as a result.
		rmSync(join(jobDir, "holder"));
		expect(observeCondorJob(loser, { hasStarted: true, pid: 4242 })).toMatchObject({ state: "lost" });
		// Each copy names itself to the wrapper, which records the one that takes the lock.
		expect(submitDescription([job()], condorJobSpec(job(), plain), plain)).toContain(
			'environment = "ORRERY_BACKEND_JOB=$(ClusterId).$(ProcId)"',
		);
	});
});
