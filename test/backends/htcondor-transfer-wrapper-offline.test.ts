import { spawn } from "node:child_process";
import {
	cpSync,
	existsSync,
	mkdirSync,
	mkdtempSync,
	readdirSync,
	readFileSync,
	rmSync,
	statSync,
	symlinkSync,
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
	flavour: "compute4punch",
	containerUniverse: false,
	fileTransfer: "transfer",
	pollIntervalMs: 15_000,
	maxActiveJobs: 100,
	batchThreshold: 10,
	commandTimeoutMs: 10_000,
};
const completed = [{ ClusterId: 4711, ProcId: 0, JobStatus: 4, ExitCode: 0 }];

describe("htcondor file-transfer wrapper (offline: runs for real with /bin/sh in a temp dir playing the execute node's scratch directory; no HTCondor)", () => {
	let root: string;
	let tools: ReturnType<typeof standInCondorTools>;
	let backend: HtcondorBackend;
	let n = 0;
	beforeAll(() => {
		root = mkdtempSync(join(tmpdir(), "orrery-condor-wrapper-"));
		tools = standInCondorTools(root);
		backend = new HtcondorBackend(transfer, new CommandRunner({ env: { PATH: `${tools.bin}:${process.env.PATH}` } }));
	});
	afterAll(() => rmSync(root, { recursive: true, force: true }));

	async function submitted(command: string, overrides: Partial<BackendJob> = {}, files: Record<string, string> = {}) {
		const ws = join(root, `w${++n}`);
		mkdirSync(join(ws, ".orrery", "jobs", "r1", "00001-s-1"), { recursive: true });
		for (const [name, content] of Object.entries(files)) writeFileSync(join(ws, name), content);
		const job: BackendJob = {
			id: `j${n}`,
			jobDir: join(ws, ".orrery", "jobs", "r1", "00001-s-1"),
			workspace: ws,
			workdir: ws,
			command,
			env: {},
			resources: {},
			options: {},
			...overrides,
		};
		const { ref } = await backend.submit(job);
		return { job, ref, ws, description: readFileSync(join(root, "last.sub"), "utf8") };
	}
	const text = (path: string) => readFileSync(path, "utf8");

	it("works with BusyBox's tar and find, as in minimal images (find without -cnewer)", async () => {
		if (!existsSync("/bin/busybox"))
			throw new Error("this test needs /bin/busybox: run ../shared/services/podman.sh (it installs busybox-static)");
		const busybox = join(root, "busybox-bin");
		mkdirSync(busybox);
		for (const applet of ["tar", "find", "mkdir", "mv", "rm", "touch", "sleep", "ls", "cat"]) {
			symlinkSync("/bin/busybox", join(busybox, applet));
		}
		const { job, ref, ws, description } = await submitted("mkdir -p out && echo bb > out/result.txt");
		const played = playExecuteNode(description, join(root, "execute"), busybox);
		expect(text(join(played.scratch, "stderr"))).toBe("");
		tools.say([], completed);
		expect((await backend.poll([ref])).get(ref)).toMatchObject({ state: "exited", exitCode: 0 });
		expect(text(join(ws, "out", "result.txt"))).toBe("bb\n");
		expect(text(join(job.jobDir, "exit-code"))).toBe("0\n");
	});

	it("records 126 with a message, and still leaves every file HTCondor is to send back, when the workspace cannot be unpacked", async () => {
		const { job, description } = await submitted("echo never", {
			secrets: { env: { K: "v" }, files: { f: Buffer.from("x") } },
		});
		writeFileSync(join(job.jobDir, "workspace-in.tar"), "this is not a tar archive, it is much too short");
		const played = playExecuteNode(description, join(root, "execute"));
		expect(played.status).toBe(126);
		expect(text(join(job.jobDir, "returned-exit-code"))).toBe("126\n");
		expect(text(join(job.jobDir, "stderr"))).toContain("orrery: cannot unpack the workspace");
		expect(text(join(job.jobDir, "stdout"))).toBe("");
		expect(readdirSync(played.scratch)).not.toContain("secrets");
		expect(readdirSync(played.scratch)).not.toContain("secrets.env");
	});

	it("records 126 when the step's directory is missing from the snapshot", async () => {
		const ws = join(root, `w${n + 1}`);
		const { job, description } = await submitted("true", { workdir: join(ws, "gone") });
		playExecuteNode(description, join(root, "execute"));
		expect(text(join(job.jobDir, "returned-exit-code"))).toBe("126\n");
		expect(text(join(job.jobDir, "stderr"))).toContain("cannot enter the step's directory");
	});

	it("runs in an empty workspace and publishes a step that changed nothing", async () => {
		const { job, ref, description } = await submitted("echo quiet");
		expect(statSync(join(job.jobDir, "workspace-in.tar")).size).toBe(0);
		playExecuteNode(description, join(root, "execute"));
		expect(statSync(join(job.jobDir, "workspace-out.tar")).size).toBe(0);
		tools.say([], completed);
		expect((await backend.poll([ref])).get(ref)).toMatchObject({ state: "exited", exitCode: 0 });
		expect(text(join(job.jobDir, "stdout"))).toBe("quiet\n");
	});

	it("does not delete on the submit side what the step deleted (a documented limit)", async () => {
		const { ref, ws, description } = await submitted("rm doomed.txt", {}, { "doomed.txt": "x" });
		const played = playExecuteNode(description, join(root, "execute"));
		expect(existsSync(join(played.scratch, "ws", "doomed.txt"))).toBe(false);
		tools.say([], completed);
		expect((await backend.poll([ref])).get(ref)).toMatchObject({ state: "exited", exitCode: 0 });
		expect(existsSync(join(ws, "doomed.txt"))).toBe(true);
	});

	it("removes the secrets in scratch when HTCondor stops the job (SIGTERM to the job's processes)", async () => {
		const { job, description } = await submitted("touch started; sleep 30", {
			secrets: { env: {}, files: { token: Buffer.from("t") } },
		});
		const scratch = mkdtempSync(join(root, "scratch-"));
		for (const f of ["run.sh", "workspace-in.tar", "secrets.env", "secrets"]) {
			cpSync(join(job.jobDir, f), join(scratch, f), { recursive: true });
		}
		expect(description).toContain("encrypt_input_files = secrets.env, secrets");
		const child = spawn("/bin/sh", ["run.sh"], { cwd: scratch, detached: true, stdio: "ignore" });
		const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
		for (let i = 0; i < 100 && !existsSync(join(scratch, "ws", "started")); i++) await sleep(50);
		expect(existsSync(join(scratch, "ws", "started"))).toBe(true);
		process.kill(-(child.pid as number), "SIGTERM");
		await exited;
		expect(readdirSync(scratch).filter((f) => f.startsWith("secrets"))).toEqual([]);
		expect(existsSync(join(scratch, "ws", ".orrery"))).toBe(false);
	});
});

function sleep(ms: number): Promise<void> {
	return new Promise((resolve) => setTimeout(resolve, ms));
}
