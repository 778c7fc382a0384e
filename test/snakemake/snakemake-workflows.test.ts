// Snakemake workflows (workflow.type: snakemake) planned by a real Snakemake (Debian's `snakemake`, which
// .ci/run installs) and run job by job through Orrery's scheduler and local backend.
import { execFileSync } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { orrery, type ServerProcess, startServerProcess } from "../support/processes.js";

function hasSnakemake(): boolean {
	try {
		execFileSync("snakemake", ["--version"], { stdio: "ignore" });
		return true;
	} catch {
		return false;
	}
}

const example = join(import.meta.dirname, "../../examples/snakemake-star-chunks");

/** The job names `orrery logs --json` reports (REANA's job_logs). */
function jobNames(result: { stdout: string }): string[] {
	const logs = (JSON.parse(result.stdout) as { logs: { job_logs: Record<string, { job_name: string }> } }).logs;
	return Object.values(logs.job_logs).map((j) => j.job_name);
}

/** The stars brighter than `limit` in the example's chunks, counted here. */
function brightStars(limit: number): number {
	let n = 0;
	for (const chunk of ["chunk-1", "chunk-2", "chunk-3", "chunk-4"]) {
		const rows = readFileSync(join(example, "data", `${chunk}.csv`), "utf8")
			.trim()
			.split("\n")
			.slice(1);
		n += rows.filter((row) => Number(row.split(",")[3]) < limit).length;
	}
	return n;
}

describe.skipIf(!hasSnakemake() && process.env.CI !== "true")(
	"Snakemake workflows (a real Snakemake; needs Debian's snakemake)",
	() => {
		let home: string;
		let work: string;
		const env = () => ({ ORRERY_HOME: home });

		beforeAll(() => {
			home = mkdtempSync(join(tmpdir(), "orrery-snakemake-"));
			work = mkdtempSync(join(tmpdir(), "orrery-snakemake-work-"));
		});
		afterAll(() => {
			rmSync(home, { recursive: true, force: true });
			rmSync(work, { recursive: true, force: true });
		});

		it("runs the example: a job per chunk, then the sum, with the config file and -p over it", async () => {
			const r = await orrery(["run", example], env(), { timeoutMs: 120_000 });
			expect(r.code, r.stderr + r.stdout).toBe(0);
			expect(r.stderr + r.stdout).toMatch(/count_bright \(chunk=chunk-3\): finished/);
			const workspace = /workspace: (\S+)/.exec(r.stdout)?.[1] as string;
			expect(readFileSync(join(workspace, "results/total.txt"), "utf8")).toBe(`${brightStars(12)}\n`);
			expect(readFileSync(join(workspace, "results/counts/chunk-2.csv"), "utf8")).toMatch(/^chunk-2,\d+\n$/);
			expect(jobNames(await orrery(["logs", "-w", "snakemake-star-chunks.1", "--json"], env())).sort()).toEqual([
				"count_bright (chunk=chunk-1)",
				"count_bright (chunk=chunk-2)",
				"count_bright (chunk=chunk-3)",
				"count_bright (chunk=chunk-4)",
				"total",
			]);
			const eight = await orrery(["run", example, "-p", "max_mag=8"], env(), { timeoutMs: 120_000 });
			expect(eight.code, eight.stderr).toBe(0);
			const second = /workspace: (\S+)/.exec(eight.stdout)?.[1] as string;
			expect(readFileSync(join(second, "results/total.txt"), "utf8")).toBe(`${brightStars(8)}\n`);
			expect(brightStars(8)).not.toBe(brightStars(12));
		}, 240_000);

		it("refuses a Snakefile that does not load, with its line, and an unknown parameter", async () => {
			const folder = join(work, "bad");
			cpSync(example, folder, { recursive: true });
			writeFileSync(
				join(folder, "workflow/Snakefile"),
				'rule all:\n    input: "x.txt"\n\nrule x:\n    output "x.txt"\n    shell: "true"\n',
			);
			const syntax = await orrery(["run", folder], env());
			expect(syntax.code).toBe(65);
			expect(syntax.stderr).toMatch(/workflow\/Snakefile:5:1: SyntaxError: Colon expected after keyword output/);
			const unknown = await orrery(["run", example, "-p", "min_mag=3"], env());
			expect(unknown.stderr).toMatch(/unknown input parameter min_mag; the workflow declares .*max_mag/);
		}, 120_000);

		it("runs rules that run Python in Snakemake (run:, script:) through Snakemake itself, config and -p included", async () => {
			const folder = join(work, "python");
			cpSync(example, folder, { recursive: true });
			mkdirSync(join(folder, "scripts"));
			writeFileSync(
				join(folder, "scripts/lines.py"),
				'with open(snakemake.output[0], "w") as f:\n    f.write(str(len(open(snakemake.input[0]).read().splitlines())) + "\\n")\n',
			);
			writeFileSync(
				join(folder, "workflow/Snakefile"),
				[
					"rule all:",
					'    input: "x.txt", "n.txt"',
					"rule x:",
					'    output: "x.txt"',
					'    params: m=config["max_mag"], chunks=config["chunks"]',
					"    run:",
					'        open(output[0], "w").write(f"mag {params.m}\\n" + "\\n".join(params.chunks) + "\\n")',
					"rule n:",
					'    input: "x.txt"',
					'    output: "n.txt"',
					'    script: "../scripts/lines.py"',
					"",
				].join("\n"),
			);
			writeFileSync(
				join(folder, "reana.yaml"),
				readFileSync(join(example, "reana.yaml"), "utf8").replace("    - data\n", "    - data\n    - scripts\n"),
			);
			const r = await orrery(["run", folder, "-p", "max_mag=9"], env(), { timeoutMs: 120_000 });
			expect(r.code, r.stderr + r.stdout).toBe(0);
			const workspace = /workspace: (\S+)/.exec(r.stdout)?.[1] as string;
			expect(readFileSync(join(workspace, "x.txt"), "utf8")).toBe("mag 9\nchunk-1\nchunk-2\nchunk-3\nchunk-4\n");
			expect(readFileSync(join(workspace, "n.txt"), "utf8")).toBe("5\n");
		}, 180_000);

		it("does what Snakemake does around a job: touch(), the reana.yaml config over the Snakefile's configfile:, params read from inputs; refuses checkpoints", async () => {
			const folder = join(work, "around");
			cpSync(example, folder, { recursive: true });
			writeFileSync(join(folder, "workflow/default.yaml"), "max_mag: 1.0\nlabel: default\n");
			writeFileSync(
				join(folder, "workflow/Snakefile"),
				[
					'configfile: "workflow/default.yaml"',
					"rule all:",
					'    input: "done.flag", "label.txt", "copy.txt"',
					"rule flag:",
					'    output: touch("done.flag")',
					'    shell: "true"',
					"rule label:",
					'    output: "label.txt"',
					'    shell: "echo {config[max_mag]} > {output}"',
					"rule copy:",
					'    input: "label.txt"',
					'    output: "copy.txt"',
					"    params: text=lambda wildcards, input: open(input[0]).read().strip()",
					'    shell: "echo copied {params.text} > {output}"',
					"",
				].join("\n"),
			);
			const r = await orrery(["run", folder], env(), { timeoutMs: 120_000 });
			expect(r.code, r.stderr + r.stdout).toBe(0);
			const workspace = /workspace: (\S+)/.exec(r.stdout)?.[1] as string;
			expect(readFileSync(join(workspace, "done.flag"), "utf8")).toBe("");
			// workflow/config.yaml (reana.yaml's) says 12.0, the Snakefile's own configfile 1.0.
			expect(readFileSync(join(workspace, "label.txt"), "utf8")).toBe("12.0\n");
			expect(readFileSync(join(workspace, "copy.txt"), "utf8")).toBe("copied 12.0\n");
			writeFileSync(
				join(folder, "workflow/Snakefile"),
				'checkpoint split:\n    output: directory("parts")\n    shell: "mkdir -p parts"\nrule all:\n    input: "parts"\n',
			);
			const checkpoint = await orrery(["run", folder], env());
			expect(checkpoint.code).toBe(65);
			expect(checkpoint.stderr).toMatch(/checkpoint rules \(split\) are not supported/);
		}, 180_000);

		it("fails the run at a failing job, and never starts what depends on it", async () => {
			const folder = join(work, "failing");
			cpSync(example, folder, { recursive: true });
			const snakefile = readFileSync(join(example, "workflow/Snakefile"), "utf8").replace(
				'input: "data/{chunk}.csv"',
				'input: "data/{chunk}.csv"\n    resources: mem_mb=100',
			);
			writeFileSync(
				join(folder, "workflow/Snakefile"),
				snakefile.replace(
					'shell:\n        "awk',
					'shell:\n        "test {wildcards.chunk} != chunk-3 || (echo bad chunk >&2; exit 3); awk',
				),
			);
			const r = await orrery(["run", folder], env(), { timeoutMs: 120_000 });
			expect(r.code, r.stderr).toBe(1);
			expect(r.stderr + r.stdout).toMatch(/rule count_bright \(chunk=chunk-3\) failed with exit code 3: .*bad chunk/s);
			const name = /(\S+) failed: rule/.exec(r.stdout + r.stderr)?.[1] as string;
			const names = jobNames(await orrery(["logs", "-w", name, "--json"], env()));
			expect(names).toContain("count_bright (chunk=chunk-3)");
			expect(names).not.toContain("total");
		}, 120_000);
	},
);

describe.skipIf(!hasSnakemake() && process.env.CI !== "true")(
	"Snakemake through the API, as reana-client sends it, and across a killed server",
	() => {
		let home: string;
		let server: ServerProcess;
		let token: string;
		const call = async (method: string, path: string, body?: unknown) => {
			const res = await fetch(`${server.url}${path}`, {
				method,
				headers: {
					authorization: `Bearer ${token}`,
					...(body === undefined
						? {}
						: { "content-type": typeof body === "string" ? "application/octet-stream" : "application/json" }),
				},
				...(body === undefined ? {} : { body: typeof body === "string" ? body : JSON.stringify(body) }),
			});
			return (await res.json()) as Record<string, unknown>;
		};
		const settle = async (name: string) => {
			for (let i = 0; i < 600; i++) {
				const s = await call("GET", `/api/workflows/${name}/status`);
				if (!["created", "queued", "pending", "running"].includes(String(s.status))) return s;
				await new Promise((r) => setTimeout(r, 200));
			}
			throw new Error(`${name} did not end`);
		};

		beforeAll(async () => {
			home = mkdtempSync(join(tmpdir(), "orrery-snakemake-api-"));
			const created = await orrery(["admin", "create-user", "--email", "smk@example.org", "--json"], {
				ORRERY_HOME: home,
			});
			token = (JSON.parse(created.stdout) as { token: string }).token;
			server = await startServerProcess({ ORRERY_HOME: home });
		}, 60_000);
		afterAll(async () => {
			await server?.kill();
			rmSync(home, { recursive: true, force: true });
		});

		it("plans a slow Snakefile without holding up other runs, then runs it", async () => {
			// Reading this Snakefile takes 4 s (at the start's check, and again when the scheduler plans it).
			const snakefile = [
				"import time",
				"time.sleep(4)",
				"rule all:",
				'    input: "done.txt"',
				"rule make:",
				'    output: "done.txt"',
				'    shell: "echo planned > {output}"',
				"",
			].join("\n");
			const slow = String(
				(
					await call("POST", "/api/workflows?workflow_name=smk-slow", {
						workflow: { type: "snakemake", file: "Snakefile" },
					})
				).workflow_name,
			);
			await call("POST", `/api/workflows/${slow}/workspace?file_name=Snakefile`, snakefile);
			await call("POST", `/api/workflows/${slow}/start`, {});
			const quick = String(
				(
					await call("POST", "/api/workflows?workflow_name=quick", {
						workflow: { type: "serial", specification: { steps: [{ name: "hello", commands: ["echo hi"] }] } },
					})
				).workflow_name,
			);
			await call("POST", `/api/workflows/${quick}/start`, {});
			const quickStatus = await settle(quick);
			expect(quickStatus.status).toBe("finished");
			// The quick run ended while the slow one was still being planned: no job of it yet.
			const slowJobs = (await call("GET", `/api/workflows/${slow}/jobs`)) as { items: unknown[] };
			expect(slowJobs.items).toHaveLength(0);
			const slowStatus = await settle(slow);
			expect(slowStatus.status, String(slowStatus.message ?? "")).toBe("finished");
			expect(readFileSync(join(slowStatus.workspace_path as string, "done.txt"), "utf8")).toBe("planned\n");
		}, 120_000);

		it("runs a workflow whose config comes as the parameters, in the rule's image, each job once across a killed server", async () => {
			const snakefile = [
				"rule all:",
				'    input: expand("out/{i}.txt", i=range(config["n"]))',
				"rule each:",
				'    output: "out/{i}.txt"',
				'    container: "docker://docker.io/library/python:3.12-slim"',
				'    shell: "sleep 0.4; echo {wildcards.i} >> ran.log; echo {wildcards.i} > {output}"',
				"",
			].join("\n");
			// reana-client replaces inputs.parameters with the config file's values, and sends no file.
			const spec = { inputs: { parameters: { n: 6 } }, workflow: { type: "snakemake", file: "Snakefile" } };
			const created = await call("POST", "/api/workflows?workflow_name=smk", spec);
			const name = String(created.workflow_name);
			await call("POST", `/api/workflows/${name}/workspace?file_name=Snakefile`, snakefile);
			await call("POST", `/api/workflows/${name}/start`, {});
			// Killed while the jobs run, then started again: the run goes on from where it was.
			for (let i = 0; i < 100; i++) {
				const s = await call("GET", `/api/workflows/${name}/status`);
				if (((s.progress as { finished?: { total: number } })?.finished?.total ?? 0) >= 1) break;
				await new Promise((r) => setTimeout(r, 100));
			}
			const port = Number(new URL(server.url).port);
			await server.kill("SIGKILL");
			server = await startServerProcess({ ORRERY_HOME: home }, port);
			const status = await settle(name);
			expect(status.status, String(status.message ?? "")).toBe("finished");
			const ran = readFileSync(join(status.workspace_path as string, "ran.log"), "utf8")
				.trim()
				.split("\n");
			expect(ran.sort()).toEqual(["0", "1", "2", "3", "4", "5"]);
			const jobs = (await call("GET", `/api/workflows/${name}/jobs`)) as { items: Array<{ image: string | null }> };
			expect(jobs.items).toHaveLength(6);
			for (const j of jobs.items) expect(j.image).toBe("docker.io/library/python:3.12-slim");
		}, 180_000);
	},
);
