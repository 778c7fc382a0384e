import { execFileSync } from "node:child_process";
import {
	existsSync,
	lstatSync,
	mkdirSync,
	mkdtempSync,
	readdirSync,
	readFileSync,
	readlinkSync,
	rmSync,
	statSync,
	writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CommandRunner } from "../../src/backends/command-runner.js";
import { HtcondorBackend, type HtcondorConfig } from "../../src/backends/htcondor/index.js";
import type { BackendJob } from "../../src/backends/index.js";
import { playExecuteNode, standInCondorTools } from "../fixtures/htcondor/execute-node.js";

const transfer: HtcondorConfig = {
	flavour: "htcondor",
	containerUniverse: false,
	fileTransfer: "transfer",
	pollIntervalMs: 15_000,
	maxActiveJobs: 100,
	batchThreshold: 3,
	commandTimeoutMs: 10_000,
};
const ad = (JobStatus: number, extra: object = {}) => ({ ClusterId: 4711, ProcId: 0, JobStatus, ...extra });

describe("htcondor file transfer (offline: stand-in condor_* tools; the wrapper runs for real with /bin/sh in a temp dir playing the execute node's scratch directory)", () => {
	let root: string;
	let tools: ReturnType<typeof standInCondorTools>;
	let runner: CommandRunner;
	let n = 0;
	beforeAll(() => {
		root = mkdtempSync(join(tmpdir(), "orrery-condor-transfer-"));
		tools = standInCondorTools(root);
		runner = new CommandRunner({ env: { PATH: `${tools.bin}:${process.env.PATH}` } });
	});
	afterAll(() => rmSync(root, { recursive: true, force: true }));

	/** A workspace with inputs, a job folder of another job (with a secret) and a job of its own. */
	function workspaceJob(command: string | ((ws: string) => string), overrides: Partial<BackendJob> = {}): BackendJob {
		const ws = join(root, "users", "u1", `w${++n}`);
		mkdirSync(join(ws, "data"), { recursive: true });
		mkdirSync(join(ws, "sub"));
		writeFileSync(join(ws, "data", "in.txt"), "42\n");
		writeFileSync(join(ws, "keep.txt"), "untouched\n");
		writeFileSync(join(ws, "edit.txt"), "old\n");
		mkdirSync(join(ws, ".orrery", "jobs", "r1", "00000-prev-1"), { recursive: true });
		writeFileSync(join(ws, ".orrery", "jobs", "r1", "00000-prev-1", "secrets.env"), "export OTHER=x\n");
		const jobDir = join(ws, ".orrery", "jobs", "r1", "00001-fit-1");
		mkdirSync(jobDir);
		return {
			id: `job${n}`,
			jobDir,
			workspace: ws,
			workdir: join(ws, "sub"),
			command: typeof command === "string" ? command : command(ws),
			env: {},
			resources: { cpus: 1 },
			options: {},
			...overrides,
		};
	}

	it("submits a description whose file-transfer lines carry the wrapper and the workspace tar", async () => {
		const job = workspaceJob("true");
		const sub = await new HtcondorBackend(transfer, runner).submit(job);
		expect(sub.ref).toBe(`4711.0@${job.jobDir}`);
		expect(readFileSync(join(root, "last.sub"), "utf8").split("\n")).toEqual([
			"# Orrery: generated submit description (one job per job folder)",
			"universe = vanilla",
			"executable = /bin/sh",
			"arguments = run.sh",
			"transfer_executable = false",
			"initialdir = $(OrreryJobDir)",
			"output = $(OrreryJobDir)/condor.out",
			"error = $(OrreryJobDir)/condor.err",
			"log = $(OrreryJobDir)/condor.log",
			"should_transfer_files = YES",
			"when_to_transfer_output = ON_EXIT",
			"transfer_input_files = run.sh, workspace-in.tar",
			"transfer_output_files = stdout, stderr, exit-code, workspace-out.tar, scratch-path",
			'transfer_output_remaps = "exit-code = returned-exit-code"',
			"getenv = false",
			"batch_name = orrery",
			'+OrreryJobId = "$(OrreryJobId)"',
			"request_cpus = 1",
			`OrreryJobId = ${job.id}`,
			`OrreryJobDir = ${job.jobDir}`,
			"queue 1",
			"",
		]);
		// The snapshot holds the workspace but nothing of .orrery/ (other jobs' folders and secrets).
		const listing = execFileSync("tar", ["-tf", join(job.jobDir, "workspace-in.tar")], { encoding: "utf8" });
		expect(listing.split("\n").sort()).toEqual(
			["./data/", "./data/in.txt", "./edit.txt", "./keep.txt", "./sub/", ""].sort(),
		);
	});

	it("runs the step in scratch, and a poll puts its changes into the workspace before reporting its exit", async () => {
		// The command names the workspace by its server path, in the command and in the environment.
		const job = workspaceJob((ws) =>
			[
				'cat "$INPUT" > out.txt',
				"echo changed >> ../edit.txt",
				`mkdir -p ${ws}/results && echo done > '${ws}/results/r.txt'`,
				'ln -s "$INPUT" link',
				"touch -t 200001010000 old-mtime.txt",
				"echo to-stdout; echo to-stderr >&2; exit 3",
			].join("\n"),
		);
		job.env = { INPUT: join(job.workspace, "data", "in.txt") };
		const keptAt = statSync(join(job.workspace, "keep.txt")).mtimeMs;
		const backend = new HtcondorBackend(transfer, runner);
		const { ref } = await backend.submit(job);
		const played = playExecuteNode(readFileSync(join(root, "last.sub"), "utf8"), join(root, "execute"));
		expect(played.status).toBe(3);
		expect(readFileSync(join(job.jobDir, "returned-exit-code"), "utf8")).toBe("3\n");
		// While HTCondor still reports the job running (output transfer under way), nothing is published.
		tools.say([ad(2, { JobCurrentStartDate: 1_700_000_000 })]);
		expect((await backend.poll([ref])).get(ref)).toMatchObject({ state: "running" });
		expect(existsSync(join(job.jobDir, "exit-code"))).toBe(false);
		expect(existsSync(join(job.workspace, "results"))).toBe(false);

		tools.say([], [ad(4, { ExitCode: 3 })]);
		expect((await backend.poll([ref])).get(ref)).toMatchObject({ state: "exited", exitCode: 3 });
		const ws = (p: string) => join(job.workspace, p);
		expect(readFileSync(ws("sub/out.txt"), "utf8")).toBe("42\n");
		expect(readFileSync(ws("edit.txt"), "utf8")).toBe("old\nchanged\n");
		expect(readFileSync(ws("results/r.txt"), "utf8")).toBe("done\n");
		expect(existsSync(ws("sub/old-mtime.txt"))).toBe(true);
		// A link into the scratch workspace points at the same file in the real one.
		expect(readlinkSync(ws("sub/link"))).toBe(ws("data/in.txt"));
		expect(statSync(ws("keep.txt")).mtimeMs).toBe(keptAt);
		expect(readFileSync(join(job.jobDir, "exit-code"), "utf8")).toBe("3\n");
		expect(readFileSync(join(job.jobDir, "stdout"), "utf8")).toBe("to-stdout\n");
		expect(readFileSync(join(job.jobDir, "stderr"), "utf8")).toBe("to-stderr\n");
		for (const gone of ["workspace-in.tar", "workspace-out.tar", "returned", "returned-exit-code"]) {
			expect(existsSync(join(job.jobDir, gone)), gone).toBe(false);
		}
		// A restarted server polls again: same answer, nothing moves.
		const again = await new HtcondorBackend(transfer, runner).poll([ref]);
		expect(again.get(ref)).toMatchObject({ state: "exited", exitCode: 3 });
	});

	it("finishes a publication a crash interrupted, and ignores what the crash left half-unpacked", async () => {
		const job = workspaceJob("echo new > made.txt");
		const backend = new HtcondorBackend(transfer, runner);
		const { ref } = await backend.submit(job);
		playExecuteNode(readFileSync(join(root, "last.sub"), "utf8"), join(root, "execute"));
		mkdirSync(join(job.jobDir, "returned", "sub"), { recursive: true });
		writeFileSync(join(job.jobDir, "returned", "sub", "half-written.txt"), "x");
		tools.say([], [ad(4, { ExitCode: 0 })]);
		const seen = await new HtcondorBackend(transfer, runner).poll([ref]);
		expect(seen.get(ref)).toMatchObject({ state: "exited", exitCode: 0 });
		expect(readFileSync(join(job.workspace, "sub", "made.txt"), "utf8")).toBe("new\n");
		expect(existsSync(join(job.workspace, "sub", "half-written.txt"))).toBe(false);
	});

	it("sends secrets encrypted, gives them to the command, removes them in scratch and never sends them back", async () => {
		const job = workspaceJob('echo "$API_KEY" > seen-env; cat "$REANA_SECRETS_DIR/token" > seen-file', {
			secrets: { env: { API_KEY: "s3cr3t" }, files: { token: Buffer.from("tok") } },
		});
		const { ref } = await new HtcondorBackend(transfer, runner).submit(job);
		const description = readFileSync(join(root, "last.sub"), "utf8");
		expect(description).toContain("transfer_input_files = run.sh, workspace-in.tar, secrets.env, secrets\n");
		expect(description).toContain("encrypt_input_files = secrets.env, secrets\n");
		expect(readFileSync(join(job.jobDir, "run.sh"), "utf8")).not.toContain("s3cr3t");
		const played = playExecuteNode(description, join(root, "execute"));
		expect(readdirSync(played.scratch).sort()).toEqual(
			["exit-code", "run.sh", "scratch-path", "stamp", "stderr", "stdout", "workspace-out.tar", "ws"].sort(),
		);
		expect(existsSync(join(played.scratch, "ws", ".orrery"))).toBe(false);
		const back = execFileSync("tar", ["-tf", join(job.jobDir, "workspace-out.tar")], { encoding: "utf8" });
		expect(back).not.toMatch(/secret|\.orrery/);
		tools.say([], [ad(4, { ExitCode: 0 })]);
		await new HtcondorBackend(transfer, runner).poll([ref]);
		expect(readFileSync(join(job.workspace, "sub", "seen-env"), "utf8")).toBe("s3cr3t\n");
		expect(readFileSync(join(job.workspace, "sub", "seen-file"), "utf8")).toBe("tok");
	});

	it("refuses a step whose directory lies outside its workspace, and removes the secrets it had written", async () => {
		const job = workspaceJob("true", { workdir: "/elsewhere", secrets: { env: { K: "v" }, files: {} } });
		await expect(new HtcondorBackend(transfer, runner).submit(job)).rejects.toMatchObject({
			code: "validation_failed",
			message: expect.stringMatching(/workdir \/elsewhere is not inside the workspace/),
		});
		expect(readdirSync(job.jobDir).filter((f) => f.startsWith("secrets"))).toEqual([]);
	});

	it("gives a batch of one workspace one snapshot, hard-linked into each job folder", async () => {
		const first = workspaceJob("true");
		const jobs = [first, ...[2, 3].map((i) => ({ ...first, id: `${first.id}-${i}`, jobDir: `${first.jobDir}-${i}` }))];
		for (const j of jobs.slice(1)) mkdirSync(j.jobDir);
		await new HtcondorBackend(transfer, runner).submitBatch(jobs);
		const inodes = jobs.map((j) => statSync(join(j.jobDir, "workspace-in.tar")).ino);
		expect(new Set(inodes).size).toBe(1);
		expect(readFileSync(join(root, "last.sub"), "utf8")).toMatch(
			/transfer_input_files = run.sh, workspace-in.tar\n[\s\S]*queue OrreryJobId, OrreryJobDir from \(\n/,
		);
	});

	it("reports a held job without publishing anything, and drops its snapshot", async () => {
		const job = workspaceJob("echo x > x.txt");
		const { ref } = await new HtcondorBackend(transfer, runner).submit(job);
		playExecuteNode(readFileSync(join(root, "last.sub"), "utf8"), join(root, "execute"));
		tools.say([ad(5, { HoldReasonCode: 12, HoldReason: "Transfer output files failure" })]);
		expect((await new HtcondorBackend(transfer, runner).poll([ref])).get(ref)).toMatchObject({ state: "lost" });
		expect(existsSync(join(job.workspace, "sub", "x.txt"))).toBe(false);
		expect(existsSync(join(job.jobDir, "workspace-in.tar"))).toBe(false);
	});

	it("writes nothing outside the workspace or into .orrery/, whatever the returned tar holds", async () => {
		const job = workspaceJob("true");
		const outside = join(root, "outside");
		mkdirSync(outside, { recursive: true });
		const { symlinkSync } = await import("node:fs");
		symlinkSync(outside, join(job.workspace, "escape")); // left by an earlier step
		const { ref } = await new HtcondorBackend(transfer, runner).submit(job);
		const craft = join(root, `craft${n}`);
		mkdirSync(join(craft, "escape"), { recursive: true });
		mkdirSync(join(craft, ".orrery", "jobs"), { recursive: true });
		writeFileSync(join(craft, "escape", "pwn"), "through the link");
		writeFileSync(join(craft, ".orrery", "jobs", "exit-code"), "0");
		execFileSync("tar", ["-cf", join(job.jobDir, "workspace-out.tar"), "-C", craft, "."]);
		writeFileSync(join(job.jobDir, "returned-exit-code"), "0\n");
		tools.say([], [ad(4, { ExitCode: 0 })]);
		expect((await new HtcondorBackend(transfer, runner).poll([ref])).get(ref)).toMatchObject({ state: "exited" });
		expect(readdirSync(outside)).toEqual([]);
		expect(lstatSync(join(job.workspace, "escape")).isDirectory()).toBe(true);
		expect(existsSync(join(job.workspace, ".orrery", "jobs", "exit-code"))).toBe(false);
	});

	it("reports a returned tar that cannot be unpacked as an infrastructure failure", async () => {
		const job = workspaceJob("true");
		const { ref } = await new HtcondorBackend(transfer, runner).submit(job);
		writeFileSync(join(job.jobDir, "workspace-out.tar"), "not a tar");
		writeFileSync(join(job.jobDir, "returned-exit-code"), "0\n");
		tools.say([], [ad(4, { ExitCode: 0 })]);
		expect((await new HtcondorBackend(transfer, runner).poll([ref])).get(ref)).toMatchObject({
			state: "lost",
			reason: expect.stringMatching(/could not be put into the workspace: cannot unpack workspace-out.tar/),
		});
		expect(existsSync(join(job.jobDir, "exit-code"))).toBe(false);
	});
});
