import { spawn, spawnSync } from "node:child_process";
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
import {
	diskAwareFs,
	inheritedEnvironment,
	inlineFs,
	type JobFolderFs,
	jobEnvironment,
	LocalBackend,
	lockLostExitCode,
	writeJobScripts,
} from "../../src/backends/index.js";
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
			// The wrapper starting now (as the launcher would) finds the lock taken and exits at once, with
			// the code reserved for a copy that lost the lock.
			expect(spawnSync("/bin/sh", [join(jobDir, "run.sh")]).status).toBe(lockLostExitCode);
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

describe("local backend: job-folder operations by the workspace's filesystem", () => {
	it("does them at once for a workspace on a local disk and through the thread pool for one that is not, deciding once per workspace", async () => {
		const dir = mkdtempSync(join(tmpdir(), "orrery-disk-aware-"));
		const calls: string[] = [];
		const decided: string[] = [];
		// Both sides do the real operations; each records which one was asked.
		const recording = (side: string): JobFolderFs => {
			const noted = <T>(op: string, run: () => T): T => {
				calls.push(`${side} ${op}`);
				return run();
			};
			return {
				readFile: (p, e) => noted("readFile", () => inlineFs.readFile(p, e)),
				writeFile: (p, d, o) => noted("writeFile", () => inlineFs.writeFile(p, d, o)),
				stat: (p) => noted("stat", () => inlineFs.stat(p)),
				mkdir: (p, o) => noted("mkdir", () => inlineFs.mkdir(p, o)),
				chmod: (p, m) => noted("chmod", () => inlineFs.chmod(p, m)),
				readdir: (p) => noted("readdir", () => inlineFs.readdir(p)),
			};
		};
		const local = join(dir, "local-ws");
		const shared = join(dir, "lustre-ws");
		mkdirSync(local);
		mkdirSync(shared);
		const fs = diskAwareFs(
			(d) => {
				decided.push(d);
				return !d.startsWith(shared);
			},
			{ local: recording("inline"), remote: recording("pool") },
		);
		try {
			for (const ws of [local, shared]) {
				for (const n of [1, 2]) {
					const job = join(ws, ".orrery/jobs/run", `0000${n}-step-1`);
					await fs.mkdir(job, { recursive: true });
					await fs.writeFile(join(job, "run.sh"), "true\n", { mode: 0o755 });
					expect(await fs.readFile(join(job, "run.sh"), "utf8")).toBe("true\n");
					// A job's output folder in the workspace, not yet there: decided by its nearest existing folder.
					await fs.mkdir(join(ws, `cwl-work/step.${n}/out`), { recursive: true });
				}
			}
			expect(calls.filter((c) => c.startsWith("inline"))).toHaveLength(8);
			expect(calls.filter((c) => c.startsWith("pool"))).toHaveLength(8);
			expect(calls.slice(0, 4)).toEqual(["inline mkdir", "inline writeFile", "inline readFile", "inline mkdir"]);
			expect(calls.slice(8, 12)).toEqual(["pool mkdir", "pool writeFile", "pool readFile", "pool mkdir"]);
			// One decision per workspace, the first output folder's (its workspace was decided as `<ws>` already).
			expect(decided).toEqual([local, shared]);
			expect(existsSync(join(shared, "cwl-work/step.2/out"))).toBe(true);
		} finally {
			rmSync(dir, { recursive: true, force: true });
		}
	});
});

describe("local backend: the environment its jobs inherit, announced", () => {
	it("names every inherited variable but PATH, or none when one could not be unset exactly", () => {
		const { env, names } = inheritedEnvironment({ PATH: "/bin", B: "2", A: "1", ORRERY_ENV_NAMES: "stale" });
		expect(names).toBe("A B");
		expect(env).toEqual({ PATH: "/bin", A: "1", B: "2", ORRERY_ENV_NAMES: "A B" });
		expect(inheritedEnvironment({ A: "1", "BASH_FUNC_f%%": "() { :; }" }).names).toBeUndefined();
		expect(inheritedEnvironment({ A: "1", orrery_x: "1" }).names).toBeUndefined();
	});

	it("gives a job the launcher's announcement and the wrapper's own names, so a command can clear them with builtins", async () => {
		// Names a shell cannot unset (an exported bash function, say) would turn the announcement off.
		const saved = { ...process.env };
		for (const k of Object.keys(process.env)) if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k)) delete process.env[k];
		const backend = await LocalBackend.create({ containerRuntime: "none" });
		const dir = mkdtempSync(join(tmpdir(), "orrery-local-env-names-"));
		try {
			const jobDir = join(dir, "job");
			mkdirSync(jobDir);
			await backend.submit({
				id: "job",
				jobDir,
				workspace: dir,
				workdir: dir,
				command: `[ -n "$orrery_inherited" ] && [ "$ORRERY_ENV_NAMES" = "$orrery_inherited" ] && echo match > matched; echo "$orrery_exported" > exported`,
				env: { GREETING: "hi", "not-a-name": "x" },
				resources: {},
				options: {},
			});
			for (let i = 0; i < 250 && !existsSync(join(jobDir, "exit-code")); i++)
				await new Promise((r) => setTimeout(r, 20));
			expect(readFileSync(join(dir, "matched"), "utf8")).toBe("match\n");
			expect(readFileSync(join(dir, "exported"), "utf8")).toBe("GREETING\n");
		} finally {
			Object.assign(process.env, saved);
			await backend.close();
			rmSync(dir, { recursive: true, force: true });
		}
	});
});

describe("local backend: the server's settings and credentials stay out of its jobs", () => {
	it("drops every ORRERY_ name, the CLI's token and the ORRERY_JOB_ENV_DROP patterns (default: credential names)", () => {
		const base = {
			PATH: "/bin",
			HOME: "/home/a",
			LANG: "C.UTF-8",
			ORRERY_SECRET_KEY: "k",
			ORRERY_DATABASE_URL: "postgres://u:p@db/x",
			REANA_ACCESS_TOKEN: "t",
			REANA_SERVER_URL: "https://reana.example",
			AWS_SECRET_ACCESS_KEY: "s",
			github_token: "g",
			PGPASSWORD: "p",
			SSH_AUTH_SOCK: "/tmp/agent",
			API_KEY: "a",
			KEYBOARD: "us",
		};
		expect(jobEnvironment(base)).toEqual({
			PATH: "/bin",
			HOME: "/home/a",
			LANG: "C.UTF-8",
			REANA_SERVER_URL: "https://reana.example",
			KEYBOARD: "us",
		});
		// A list of its own replaces the default one; an empty one keeps all but Orrery's own settings.
		expect(jobEnvironment({ ...base, ORRERY_JOB_ENV_DROP: "lang, *_URL" })).toEqual({
			PATH: "/bin",
			HOME: "/home/a",
			AWS_SECRET_ACCESS_KEY: "s",
			github_token: "g",
			PGPASSWORD: "p",
			SSH_AUTH_SOCK: "/tmp/agent",
			API_KEY: "a",
			KEYBOARD: "us",
		});
		expect(Object.keys(jobEnvironment({ ...base, ORRERY_JOB_ENV_DROP: "" })).sort()).toEqual([
			"API_KEY",
			"AWS_SECRET_ACCESS_KEY",
			"HOME",
			"KEYBOARD",
			"LANG",
			"PATH",
			"PGPASSWORD",
			"REANA_SERVER_URL",
			"SSH_AUTH_SOCK",
			"github_token",
		]);
		// A pattern's other characters are literal: `.` is no wildcard.
		expect(jobEnvironment({ A_B: "1", AxB: "2", ORRERY_JOB_ENV_DROP: "A.B" })).toEqual({ A_B: "1", AxB: "2" });
	});

	it("a real job sees the server's PATH and harmless variables, not its secret key or cloud credentials", async () => {
		const added = {
			ORRERY_SECRET_KEY: "server-secret-key",
			AWS_SECRET_ACCESS_KEY: "operator-cloud-key",
			REANA_ACCESS_TOKEN: "cli-token",
			ORRERY_TEST_HARMLESS_SETTING: "x",
			SURVEY_RELEASE: "gaia-dr3",
		};
		const saved = Object.fromEntries(Object.keys(added).map((k) => [k, process.env[k]]));
		Object.assign(process.env, added);
		const backend = await LocalBackend.create({ containerRuntime: "none" });
		const dir = mkdtempSync(join(tmpdir(), "orrery-local-env-drop-"));
		try {
			const jobDir = join(dir, "job");
			mkdirSync(jobDir);
			await backend.submit({
				id: "job",
				jobDir,
				workspace: dir,
				workdir: dir,
				command: "env > seen",
				env: {},
				resources: {},
				options: {},
			});
			for (let i = 0; i < 250 && !existsSync(join(jobDir, "exit-code")); i++)
				await new Promise((r) => setTimeout(r, 20));
			const seen = readFileSync(join(dir, "seen"), "utf8");
			expect(seen).toContain("SURVEY_RELEASE=gaia-dr3\n");
			expect(seen).toContain(`PATH=${process.env.PATH}\n`);
			for (const value of ["server-secret-key", "operator-cloud-key", "cli-token"]) expect(seen).not.toContain(value);
			expect(seen).not.toMatch(/^ORRERY_(SECRET_KEY|TEST_HARMLESS_SETTING)=/m);
		} finally {
			for (const [k, v] of Object.entries(saved)) {
				if (v === undefined) delete process.env[k];
				else process.env[k] = v;
			}
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

	it("starts jobs sent by name after a job of the same folder, and by full path otherwise", async () => {
		const { jobLauncherFactory } = await import("../../src/backends/local/job-launcher.js");
		const dir = mkdtempSync(join(tmpdir(), "orrery-launcher-names-"));
		const ended: string[] = [];
		const launcher = (await jobLauncherFactory())((d) => ended.push(d));
		try {
			// a/j0, a/j1 (by name), b/j2 (full path), a/j3 (full path: the folder changed), a/j4 (by name)
			const dirs = ["a/j0", "a/j1", "b/j2", "a/j3", "a/j4"].map((rel) => join(dir, rel));
			for (const d of dirs) {
				mkdirSync(d, { recursive: true });
				await writeJobScripts(d, "echo ran > out", {}, { workdir: d });
				launcher.start(d);
			}
			for (let i = 0; i < 250 && ended.length < dirs.length; i++) await new Promise((r) => setTimeout(r, 20));
			expect(ended.sort()).toEqual([...dirs].sort());
			for (const d of dirs) expect(readFileSync(join(d, "out"), "utf8")).toBe("ran\n");
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
			// A second job of the same folder goes by its name alone.
			const second = join(dir, "job2");
			mkdirSync(second);
			await writeJobScripts(second, "echo two > out", {}, { workdir: second });
			launcher.start(second);
			for (let i = 0; i < 100 && ended.length < 2; i++) await new Promise((r) => setTimeout(r, 20));
			expect(ended).toEqual([jobDir, second]);
			expect(readFileSync(join(second, "out"), "utf8")).toBe("two\n");
		} finally {
			launcher.close();
			rmSync(dir, { recursive: true, force: true });
		}
	});
});

describe("local backend: the launcher's queue", () => {
	/** Waits until `done()` holds, polling every 20 ms for at most `ms`. */
	const until = async (done: () => boolean, ms = 10_000) => {
		for (let waited = 0; !done() && waited < ms; waited += 20) await new Promise((r) => setTimeout(r, 20));
	};
	/** A job that records when it ran (start and end, in ms since the epoch) and appends its name to `ran`. */
	const timedJob = async (dir: string, name: string, seconds: number) => {
		const jobDir = join(dir, name);
		mkdirSync(jobDir);
		await writeJobScripts(
			jobDir,
			`date +%s%3N > start; sleep ${seconds}; date +%s%3N > end; echo ${name} >> ${join(dir, "ran")}`,
			{},
			{ workdir: jobDir },
		);
		return jobDir;
	};
	const span = (jobDir: string) =>
		[readFileSync(join(jobDir, "start"), "utf8"), readFileSync(join(jobDir, "end"), "utf8")].map(Number) as [
			number,
			number,
		];

	/** Submits `n` jobs that sleep, then append their name (`job<i>`) to `ran` in `dir`; their folders. */
	const submitRecorders = async (backend: LocalBackend, dir: string, n: number, seconds: number) => {
		const dirs: string[] = [];
		for (let i = 0; i < n; i++) {
			const jobDir = join(dir, `job${i}`);
			mkdirSync(jobDir);
			await backend.submit({
				id: `job${i}`,
				jobDir,
				workspace: dir,
				workdir: dir,
				command: `sleep ${seconds}; echo job${i} >> ${join(dir, "ran")}`,
				env: {},
				resources: {},
				options: {},
			});
			dirs.push(jobDir);
		}
		return dirs;
	};

	it("runs at most maxRunning jobs at once, starts each waiting job when one ends, and reports which still wait", async () => {
		const { jobLauncherFactory } = await import("../../src/backends/local/job-launcher.js");
		const dir = mkdtempSync(join(tmpdir(), "orrery-launcher-queue-"));
		const ended: string[] = [];
		const launcher = (await jobLauncherFactory({ maxRunning: 2 }))((d) => ended.push(d));
		try {
			expect(launcher.maxRunning).toBe(2);
			const dirs: string[] = [];
			for (let i = 0; i < 6; i++) dirs.push(await timedJob(dir, `job${i}`, 0.3));
			for (const d of dirs) launcher.start(d);
			// Two start at once; the last ones wait in the queue (their start is not reported yet).
			await until(() => !launcher.isWaiting(dirs[0] as string) && !launcher.isWaiting(dirs[1] as string));
			expect(launcher.isWaiting(dirs[5] as string)).toBe(true);
			await until(() => ended.length === 6);
			expect(ended.sort()).toEqual([...dirs].sort());
			for (const d of dirs) expect(launcher.isWaiting(d)).toBe(false);
			// Never more than two at once, and no gap: six jobs of 0.3 s in three rounds.
			const spans = dirs.map(span);
			for (const [start] of spans)
				expect(spans.filter(([s, e]) => s <= start && start < e).length).toBeLessThanOrEqual(2);
			const first = Math.min(...spans.map(([s]) => s));
			const last = Math.max(...spans.map(([, e]) => e));
			expect(last - first).toBeGreaterThanOrEqual(850);
			expect(readFileSync(join(dir, "ran"), "utf8").trim().split("\n").sort()).toEqual(dirs.map((_, i) => `job${i}`));
		} finally {
			launcher.close();
			rmSync(dir, { recursive: true, force: true });
		}
	});

	it("hands the jobs waiting in a killed shell to a new one; each job runs once", async () => {
		const { jobLauncherFactory, ShellLauncher } = await import("../../src/backends/local/job-launcher.js");
		const dir = mkdtempSync(join(tmpdir(), "orrery-launcher-killed-"));
		const ended: string[] = [];
		const launcher = (await jobLauncherFactory({ maxRunning: 1 }))((d) => ended.push(d));
		try {
			const dirs: string[] = [];
			for (let i = 0; i < 4; i++) dirs.push(await timedJob(dir, `job${i}`, 0.4));
			for (const d of dirs) launcher.start(d);
			const first = (launcher as InstanceType<typeof ShellLauncher>).pid as number;
			await until(() => existsSync(join(dirs[0] as string, "start")));
			process.kill(first, "SIGKILL"); // the running job has its own process group and goes on
			await until(() => ended.length === 4);
			expect(ended.sort()).toEqual([...dirs].sort());
			expect((launcher as InstanceType<typeof ShellLauncher>).pid).not.toBe(first);
			expect(readFileSync(join(dir, "ran"), "utf8").trim().split("\n").sort()).toEqual([
				"job0",
				"job1",
				"job2",
				"job3",
			]);
			for (const d of dirs) expect(readFileSync(join(d, "exit-code"), "utf8")).toBe("0\n");
		} finally {
			launcher.close();
			rmSync(dir, { recursive: true, force: true });
		}
	});

	it("restarts a shell that cannot run at most once a second, not in a loop", async () => {
		const { ShellLauncher } = await import("../../src/backends/local/job-launcher.js");
		const dir = mkdtempSync(join(tmpdir(), "orrery-launcher-broken-"));
		const starts = join(dir, "starts");
		// A "shell" that dies at once, as a broken installation would.
		const launcher = new ShellLauncher(["/bin/sh"], `echo x >> ${starts}; exit 1`, false, () => undefined, 10_000, 1);
		try {
			launcher.start(join(dir, "job"));
			await new Promise((r) => setTimeout(r, 2500));
			const count = readFileSync(starts, "utf8").trim().split("\n").length;
			expect(count).toBeGreaterThanOrEqual(2); // the first restart is at once
			expect(count).toBeLessThanOrEqual(5); // then one a second
		} finally {
			launcher.close();
			rmSync(dir, { recursive: true, force: true });
		}
	});

	it("never runs a job cancelled while it waits in the queue; the others go on", async () => {
		const backend = await LocalBackend.create({ containerRuntime: "none", maxActiveJobs: 1 });
		const dir = mkdtempSync(join(tmpdir(), "orrery-local-cancel-queued-"));
		try {
			const dirs = await submitRecorders(backend, dir, 4, 0.3);
			await until(() => existsSync(join(dirs[0] as string, "pid")));
			// job1 and job3 are cancelled before their turn (a stop of their run would do this).
			await backend.cancel(dirs[1] as string);
			await backend.cancel(dirs[3] as string);
			await until(() => existsSync(join(dirs[2] as string, "exit-code")));
			await new Promise((r) => setTimeout(r, 500)); // the launcher has reached job3 by now
			expect(readFileSync(join(dir, "ran"), "utf8").trim().split("\n")).toEqual(["job0", "job2"]);
			for (const d of [dirs[1], dirs[3]] as string[]) expect(existsSync(join(d, "exit-code"))).toBe(false);
		} finally {
			await backend.close();
			rmSync(dir, { recursive: true, force: true });
		}
	});

	/**
	 * Once the first of three jobs has ended (and `settleMs` more), the other two have not started; the
	 * next server's backend polls them (the queued ones are handed to its launcher) and runs each once.
	 */
	const expectQueueTakenOver = async (dir: string, dirs: string[], next: LocalBackend, settleMs: number) => {
		await until(() => existsSync(join(dirs[0] as string, "exit-code")));
		await new Promise((r) => setTimeout(r, settleMs));
		expect(existsSync(join(dirs[1] as string, "pid"))).toBe(false);
		expect(existsSync(join(dirs[2] as string, "pid"))).toBe(false);
		const seen = await next.poll(dirs);
		expect(dirs.map((d) => seen.get(d)?.state)).toEqual(["exited", "queued", "queued"]);
		await until(() => dirs.every((d) => existsSync(join(d, "exit-code"))));
		expect(readFileSync(join(dir, "ran"), "utf8").trim().split("\n")).toEqual(["job0", "job1", "job2"]);
	};

	it("stops starting jobs when closed: the queued ones wait for the next server's backend, which starts each once", async () => {
		const dir = mkdtempSync(join(tmpdir(), "orrery-local-close-"));
		const first = await LocalBackend.create({ containerRuntime: "none", maxActiveJobs: 1 });
		const next = await LocalBackend.create({ containerRuntime: "none", maxActiveJobs: 1 });
		try {
			const dirs = await submitRecorders(first, dir, 3, 0.3);
			await until(() => existsSync(join(dirs[0] as string, "pid")));
			await first.close(); // the server stops: the running job goes on, the queued ones are not started
			await expectQueueTakenOver(dir, dirs, next, 400);
		} finally {
			await first.close();
			await next.close();
			rmSync(dir, { recursive: true, force: true });
		}
	});

	it("stops starting jobs when its server is killed: the queued ones wait for the next server's backend, which starts each once", async () => {
		const dir = mkdtempSync(join(tmpdir(), "orrery-local-killed-"));
		// The server is a process of its own (the built backend), killed with SIGKILL once its first job runs.
		const backendModule = join(import.meta.dirname, "../../dist/backends/local/local-backend.js");
		const script = `
			const { mkdirSync } = await import("node:fs");
			const { LocalBackend } = await import(${JSON.stringify(backendModule)});
			const backend = await LocalBackend.create({ containerRuntime: "none", maxActiveJobs: 1 });
			for (let i = 0; i < 3; i++) {
				const jobDir = ${JSON.stringify(dir)} + "/job" + i;
				mkdirSync(jobDir);
				await backend.submit({ id: "job" + i, jobDir, workspace: ${JSON.stringify(dir)}, workdir: ${JSON.stringify(dir)},
					command: "sleep 0.5; echo job" + i + " >> ${join(dir, "ran")}", env: {}, resources: {}, options: {} });
			}
			process.stdout.write("submitted");
			setInterval(() => {}, 1000);`;
		const server = spawn(process.execPath, ["--input-type=module", "-e", script], {
			stdio: ["ignore", "pipe", "inherit"],
		});
		const next = await LocalBackend.create({ containerRuntime: "none", maxActiveJobs: 1 });
		const dirs = [0, 1, 2].map((i) => join(dir, `job${i}`));
		try {
			await new Promise<void>((ready, fail) => {
				server.stdout.once("data", () => ready());
				server.once("exit", (code) => fail(new Error(`the server process exited (${code})`)));
			});
			await until(() => existsSync(join(dirs[0] as string, "pid")));
			server.kill("SIGKILL"); // its launcher outlives it but starts nothing more
			await expectQueueTakenOver(dir, dirs, next, 600);
		} finally {
			server.kill("SIGKILL");
			await next.close();
			rmSync(dir, { recursive: true, force: true });
		}
	});

	it("reports jobs beyond maxActiveJobs as queued (not lost), and a restarted server starts a job an earlier one handed over, once", async () => {
		const backend = await LocalBackend.create({ containerRuntime: "none", maxActiveJobs: 1 });
		const dir = mkdtempSync(join(tmpdir(), "orrery-local-queue-"));
		try {
			// Handed more jobs than it runs: the scheduler may submit that many.
			expect(backend.capabilities.maxActiveJobs).toBeGreaterThan(1);
			const dirs = await submitRecorders(backend, dir, 3, 0.5);
			const poll = async () => {
				const seen = await backend.poll(dirs);
				return dirs.map((d) => seen.get(d)?.state); // by ref: the map fills as the reads end
			};
			await until(() => existsSync(join(dirs[0] as string, "pid")));
			expect(await poll()).toEqual(["running", "queued", "queued"]);
			// A job folder left by an earlier server process, never started: this one starts it (the first poll).
			const orphan = join(dir, "orphan");
			mkdirSync(orphan);
			await writeJobScripts(orphan, `echo orphan >> ${join(dir, "ran")}`, {}, { workdir: dir });
			expect((await backend.poll([orphan])).get(orphan)?.state).toBe("queued");
			// Should the earlier server's launcher start it as well, the lock lets one wrapper run it.
			spawnSync("/bin/sh", [join(orphan, "run.sh")]);
			await until(() => readFileSync(join(dir, "ran"), "utf8").trim().split("\n").length === 4);
			await until(() => [...dirs, orphan].every((d) => existsSync(join(d, "exit-code"))));
			expect((await backend.poll([...dirs, orphan])).size).toBe(4);
			for (const o of (await backend.poll([...dirs, orphan])).values())
				expect(o).toMatchObject({ state: "exited", exitCode: 0 });
			expect(readFileSync(join(dir, "ran"), "utf8").trim().split("\n").sort()).toEqual([
				"job0",
				"job1",
				"job2",
				"orphan",
			]);
		} finally {
			await backend.close();
			rmSync(dir, { recursive: true, force: true });
		}
	});
});
