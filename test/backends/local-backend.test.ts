import { spawnSync } from "node:child_process";
import {
	existsSync,
	mkdirSync,
	mkdtempSync,
	readdirSync,
	readFileSync,
	rmSync,
	symlinkSync,
	writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { LocalBackend, writeJobScripts } from "../../src/backends/index.js";
import { describeBackendConformance } from "./backend-conformance.js";

// The reference backend: processes on this machine, no container runtime needed.
describeBackendConformance("local backend (conformance)", {
	create: () => LocalBackend.create({ containerRuntime: "none" }),
	queueTimeoutMs: 10_000,
	// The scheduler enforces local time limits by cancelling; the job must be gone soon after.
	timeLimit: { seconds: 2, graceMs: 15_000 },
	// The local backend runs jobs as plain processes and does not limit cpus or memory.
});

describe("local backend: a job cancelled before its wrapper starts", () => {
	it("never runs its command: the cancel takes the wrapper's lock first, and the job reads as never started", async () => {
		const backend = await LocalBackend.create({ containerRuntime: "none" });
		const dir = mkdtempSync(join(tmpdir(), "orrery-cancel-early-"));
		try {
			const jobDir = join(dir, "job");
			mkdirSync(jobDir);
			// The job's folder as a submission leaves it, before the launcher has started its wrapper.
			await writeJobScripts(jobDir, `touch ${join(dir, "ran")}`, {}, { workdir: dir });
			await backend.cancel(jobDir);
			// The wrapper starting now (as the launcher would) finds the lock taken and exits at once.
			expect(spawnSync("/bin/sh", [join(jobDir, "run.sh")]).status).toBe(0);
			expect(existsSync(join(dir, "ran"))).toBe(false);
			expect(existsSync(join(jobDir, "exit-code"))).toBe(false);
			// Not submitted through this backend, so no start grace: it reads as never started.
			const seen = await backend.poll([jobDir]);
			expect(seen.get(jobDir)).toMatchObject({ state: "lost", reason: expect.stringMatching(/never started/) });
		} finally {
			await backend.close();
			rmSync(dir, { recursive: true, force: true });
		}
	});
});

describe("job folder: a host command written into the wrapper itself", () => {
	it("runs quotes, newlines and variables as written, and a syntax error fails the job, not the wrapper", async () => {
		const dir = mkdtempSync(join(tmpdir(), "orrery-inline-"));
		try {
			const ok = join(dir, "ok");
			const bad = join(dir, "bad");
			mkdirSync(ok);
			mkdirSync(bad);
			const command = `x='it'"'"'s $HOME'\nprintf '%s|%s\\n' "$x" "$GREETING"\necho "done \\"quoted\\"" >&2\nexit 3`;
			await writeJobScripts(ok, command, { GREETING: "a b'c" }, { workdir: dir });
			expect(readdirSync(ok)).toEqual(["run.sh"]);
			expect(spawnSync("/bin/sh", [join(ok, "run.sh")]).status).toBe(3);
			expect(readFileSync(join(ok, "stdout"), "utf8")).toBe("it's $HOME|a b'c\n");
			expect(readFileSync(join(ok, "stderr"), "utf8")).toBe('done "quoted"\n');
			expect(readFileSync(join(ok, "exit-code"), "utf8")).toBe("3\n");

			// Started by the launcher (argument `notify`), the wrapper reports its end on fd 3, which the
			// command itself never sees; also when the workdir is missing.
			const notified = join(dir, "notified");
			mkdirSync(notified);
			await writeJobScripts(
				notified,
				"[ -e /proc/self/fd/3 ] && echo fd3 open || echo fd3 closed",
				{},
				{ workdir: dir },
			);
			const report = spawnSync("/bin/sh", [join(notified, "run.sh"), "notify"], {
				stdio: ["ignore", "ignore", "ignore", "pipe"],
			});
			expect(report.output[3]?.toString()).toBe(`${notified}\n`);
			expect(readFileSync(join(notified, "stdout"), "utf8")).toBe("fd3 closed\n");
			const lost = join(dir, "lost");
			mkdirSync(lost);
			await writeJobScripts(lost, "true", {}, { workdir: join(dir, "missing") });
			const lostReport = spawnSync("/bin/sh", [join(lost, "run.sh"), "notify"], {
				stdio: ["ignore", "ignore", "ignore", "pipe"],
			});
			expect(lostReport.output[3]?.toString()).toBe(`${lost}\n`);
			expect(readFileSync(join(lost, "exit-code"), "utf8")).toBe("126\n");

			await writeJobScripts(bad, "echo before\nif then fi (", {}, { workdir: dir });
			spawnSync("/bin/sh", [join(bad, "run.sh")]);
			expect(readFileSync(join(bad, "exit-code"), "utf8")).toBe("2\n");
			expect(readFileSync(join(bad, "stderr"), "utf8")).toMatch(/syntax error/i);
		} finally {
			rmSync(dir, { recursive: true, force: true });
		}
	});
});

describe("local backend: the launcher shell", () => {
	it("is replaced every N jobs, and the jobs of a replaced shell still report their ends", async () => {
		const { jobLauncherFactory, ShellLauncher } = await import("../../src/backends/local/job-launcher.js");
		const dir = mkdtempSync(join(tmpdir(), "orrery-launcher-"));
		const ended: string[] = [];
		const launcher = (await jobLauncherFactory({ recycleAfter: 3 }))((d) => ended.push(d));
		expect(launcher).toBeInstanceOf(ShellLauncher);
		const shells = new Set<number>();
		const dirs: string[] = [];
		try {
			for (let i = 0; i < 7; i++) {
				const jobDir = join(dir, `job${i}`);
				mkdirSync(jobDir);
				// The first jobs outlive the shell that started them.
				await writeJobScripts(jobDir, i < 3 ? "sleep 1; echo slow" : "echo quick", {}, { workdir: dir });
				const before = (launcher as InstanceType<typeof ShellLauncher>).pid;
				launcher.start(jobDir);
				dirs.push(jobDir);
				shells.add((launcher as InstanceType<typeof ShellLauncher>).pid ?? (before as number));
			}
			for (let i = 0; i < 100 && ended.length < 7; i++) await new Promise((r) => setTimeout(r, 50));
			expect(ended.sort()).toEqual(dirs.sort());
			expect(shells.size).toBe(3); // jobs 1-3, 4-6 and 7
			for (const d of dirs) expect(readFileSync(join(d, "exit-code"), "utf8")).toBe("0\n");
		} finally {
			launcher.close();
			rmSync(dir, { recursive: true, force: true });
		}
	});

	it("does not run the site's BASH_ENV (which could print into the channel of job ends)", async () => {
		const { jobLauncherFactory } = await import("../../src/backends/local/job-launcher.js");
		const dir = mkdtempSync(join(tmpdir(), "orrery-launcher-env-"));
		const saved = process.env.BASH_ENV;
		writeFileSync(join(dir, "bash_env"), `echo /not/a/job; touch ${join(dir, "sourced")}\n`);
		process.env.BASH_ENV = join(dir, "bash_env");
		const ended: string[] = [];
		const launcher = (await jobLauncherFactory())((d) => ended.push(d));
		try {
			const jobDir = join(dir, "job");
			mkdirSync(jobDir);
			await writeJobScripts(jobDir, "echo ok", {}, { workdir: dir });
			launcher.start(jobDir);
			for (let i = 0; i < 100 && ended.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
			await new Promise((r) => setTimeout(r, 100));
			expect(ended).toEqual([jobDir]);
			expect(existsSync(join(dir, "sourced"))).toBe(false);
		} finally {
			if (saved === undefined) delete process.env.BASH_ENV;
			else process.env.BASH_ENV = saved;
			launcher.close();
			rmSync(dir, { recursive: true, force: true });
		}
	});

	it("without bash, starts jobs through setsid (each its own session), and they report their ends", async () => {
		const { jobLauncherFactory } = await import("../../src/backends/local/job-launcher.js");
		const dir = mkdtempSync(join(tmpdir(), "orrery-launcher-setsid-"));
		const bin = join(dir, "bin");
		mkdirSync(bin);
		const setsid = spawnSync("sh", ["-c", "command -v setsid"], { encoding: "utf8" }).stdout.trim();
		symlinkSync(setsid, join(bin, "setsid"));
		const saved = process.env.PATH;
		process.env.PATH = bin; // no bash on this PATH
		let launcher: { start(d: string): void; close(): void } | undefined;
		const ended: string[] = [];
		try {
			launcher = (await jobLauncherFactory())((d) => ended.push(d));
		} finally {
			process.env.PATH = saved;
		}
		try {
			const jobDir = join(dir, "job");
			mkdirSync(jobDir);
			await writeJobScripts(jobDir, 'read -r s < /proc/self/stat; echo "$s" > stat', {}, { workdir: jobDir });
			launcher.start(jobDir);
			for (let i = 0; i < 100 && ended.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
			expect(ended).toEqual([jobDir]);
			expect(readFileSync(join(jobDir, "exit-code"), "utf8")).toBe("0\n");
			// The wrapper leads its own session: its pid is its session id.
			const pid = readFileSync(join(jobDir, "pid"), "utf8").trim();
			const session = readFileSync(join(jobDir, "stat"), "utf8").split(" ")[5];
			expect(session).toBe(pid);
		} finally {
			launcher.close();
			rmSync(dir, { recursive: true, force: true });
		}
	});
});
