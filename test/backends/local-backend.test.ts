import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
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

			await writeJobScripts(bad, "echo before\nif then fi (", {}, { workdir: dir });
			spawnSync("/bin/sh", [join(bad, "run.sh")]);
			expect(readFileSync(join(bad, "exit-code"), "utf8")).toBe("2\n");
			expect(readFileSync(join(bad, "stderr"), "utf8")).toMatch(/syntax error/i);
		} finally {
			rmSync(dir, { recursive: true, force: true });
		}
	});
});
