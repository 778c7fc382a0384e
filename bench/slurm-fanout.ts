// Figures of the compute-backends issue, on the real one-node Slurm of ../shared/services/slurm.sh:
//   1. N jobs through Orrery (database, scheduler loop, Slurm backend) against the same N commands
//      submitted as one plain `sbatch --array` (the limit); Orrery's peak RSS.
//   2. Scheduler commands (sbatch/squeue/sacct/scancel) per minute while N jobs are active.
// Usage: npm run bench -- slurm-fanout [jobs=1000] [--skip-limit]
// The N jobs come from a fan-out engine defined here (one step of N independent commands, as a CWL
// scatter gives); everything below the engine is Orrery's own code.
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { pino } from "pino";
import { ensureUser } from "../src/auth/index.js";
import { SlurmBackend } from "../src/backends/index.js";
import { systemClock } from "../src/common/index.js";
import { findWorkflowById, openDatabase } from "../src/db/index.js";
import type { EngineStep, JobRequest, RunState, WorkflowEngine } from "../src/engines/index.js";
import { createRun, type RunsDeps, Scheduler, startRun } from "../src/scheduler/index.js";
import type { WorkflowType } from "../src/spec/index.js";
import { Workspaces } from "../src/storage/index.js";
import { machine, now, peakRssMiB, printTable } from "./bench-kit.js";

const args = process.argv.slice(2);
const jobs = Number(args.find((a) => /^\d+$/.test(a)) ?? 1000);
const skipLimit = args.includes("--skip-limit");
const services = resolve(import.meta.dirname, "../../../shared/services");
const command = (i: number) => `echo task ${i}`;

function startSlurm(): void {
	const out = execFileSync("bash", [join(services, "slurm.sh")], {
		encoding: "utf8",
		stdio: ["ignore", "pipe", "ignore"],
	});
	for (const m of out.matchAll(/^export ([A-Z_]+)=(.*)$/gm)) process.env[m[1] as string] = m[2];
}

/** Waits until Slurm runs nothing else, so both measurements start from an empty cluster. */
async function quietSlurm(): Promise<void> {
	for (let i = 0; i < 600; i++) {
		if (spawnSync("squeue", ["-h", "-o", "%i"], { encoding: "utf8" }).stdout.trim() === "") return;
		await sleep(1000);
	}
	console.error("warning: Slurm still busy with other jobs; figures include their load");
}

async function arrayLimit(dir: string): Promise<number> {
	const list = join(dir, "commands.txt");
	writeFileSync(list, `${Array.from({ length: jobs }, (_, i) => command(i)).join("\n")}\n`);
	const script = `#!/bin/sh\ncmd=$(sed -n "\${SLURM_ARRAY_TASK_ID}p" '${list}')\nsh -c "$cmd" > /dev/null\n`;
	const t = now();
	const id = execFileSync("sbatch", ["--parsable", `--array=1-${jobs}`, "--output=/dev/null", `--chdir=${dir}`], {
		input: script,
		encoding: "utf8",
	}).trim();
	while (spawnSync("squeue", ["-h", "-j", id, "-o", "%i"], { encoding: "utf8" }).stdout.trim() !== "") await sleep(250);
	return now() - t;
}

/** One step of `jobs` independent commands: the shape of a large CWL scatter. */
const fanOut: WorkflowEngine = {
	type: "serial",
	async validate() {
		return [];
	},
	async next(run: RunState): Promise<EngineStep> {
		const seen = new Set(run.jobs.map((j) => j.key));
		const missing: JobRequest[] = [];
		for (let i = 0; i < jobs; i++) {
			const key = `t${i}`;
			if (!seen.has(key))
				missing.push({ key, stepName: "fan", command: command(i), resources: {}, backendOptions: {} });
		}
		if (missing.length > 0) return { kind: "submit", jobs: missing, total: jobs };
		if (run.jobs.some((j) => j.status === "failed" || j.status === "stopped"))
			return { kind: "failed", reason: "a task failed", total: jobs };
		if (run.jobs.every((j) => j.status === "finished")) return { kind: "done", total: jobs };
		return { kind: "wait", total: jobs };
	},
};

async function throughOrrery(
	dir: string,
): Promise<{ wallMs: number; perMinuteActive: number; perMinuteRun: number; commands: number }> {
	const db = await openDatabase({ url: join(dir, "orrery.db") });
	const backend = new SlurmBackend({
		pollIntervalMs: 10_000,
		maxActiveJobs: 5000,
		arrayThreshold: 10,
		maxArraySize: 1000,
		commandTimeoutMs: 60_000,
		transport: "cli",
		staging: "shared",
	});
	const engines = new Map<WorkflowType, WorkflowEngine>([["serial", fanOut]]);
	const scheduler = new Scheduler(
		{
			instanceId: `bench:${process.pid}`,
			leaseMs: 30_000,
			idleMs: 500,
			maxWorkflowsPerTick: 200,
			defaultBackend: "slurm",
			backendAliases: {},
		},
		{ db, backends: new Map([["slurm", backend]]), engines, clock: systemClock, logger: pino({ level: "warn" }) },
	);
	const deps: RunsDeps = {
		db,
		workspaces: new Workspaces({ root: join(dir, "workspaces") }),
		engines,
		clock: systemClock,
		wake: () => scheduler.wake(),
	};
	const owner = await ensureUser(db, { email: "bench@example.org", fullName: "Bench", role: "user" }, systemClock);
	const spec = { workflow: { type: "serial", specification: { steps: [{ name: "fan", commands: ["true"] }] } } };
	const wf = await createRun(deps, owner, "fanout", {
		file: "bench",
		type: "serial",
		reana: spec as never,
		warnings: [],
	});
	const t = now();
	await startRun(deps, wf, {});
	scheduler.start();
	// Commands issued during the first minute after submission, when all jobs are still active.
	let submittedAt: number | undefined;
	let atSubmit = 0;
	let firstMinute: number | undefined;
	for (;;) {
		await sleep(250);
		const c = backend.commandsIssued;
		if (submittedAt === undefined && c > 0) {
			submittedAt = now();
			atSubmit = c;
		}
		if (submittedAt !== undefined && firstMinute === undefined && now() - submittedAt >= 60_000)
			firstMinute = c - atSubmit;
		const row = await findWorkflowById(db, wf.id);
		if (row && !["created", "queued", "pending", "running"].includes(row.status)) {
			if (row.status !== "finished") throw new Error(`the fan-out ended ${row.status}: ${row.status_message}`);
			break;
		}
	}
	const wallMs = now() - t;
	await scheduler.stop();
	await db.close();
	const runMinutes = (now() - (submittedAt ?? t)) / 60_000;
	const commands = backend.commandsIssued;
	return {
		wallMs,
		perMinuteActive: firstMinute ?? (commands - atSubmit) / runMinutes,
		perMinuteRun: (commands - atSubmit) / runMinutes,
		commands,
	};
}

function sleep(ms: number): Promise<void> {
	return new Promise((r) => setTimeout(r, ms));
}

startSlurm();
const dir = mkdtempSync("/tmp/orrery-fanout-");
try {
	let limitMs: number | undefined;
	if (!skipLimit) {
		await quietSlurm();
		limitMs = await arrayLimit(dir);
	}
	await quietSlurm();
	const orrery = await throughOrrery(dir);
	const rss = peakRssMiB(process.pid);
	const rows: Array<Array<string | number>> = [];
	if (limitMs !== undefined) rows.push([`plain sbatch --array=1-${jobs} (limit)`, limitMs / 1000, "", "", ""]);
	rows.push([
		`${jobs} jobs through Orrery`,
		orrery.wallMs / 1000,
		limitMs === undefined ? "" : `${(orrery.wallMs / limitMs).toFixed(2)}×`,
		rss,
		`${orrery.perMinuteActive.toFixed(1)} (run avg ${orrery.perMinuteRun.toFixed(1)}, total ${orrery.commands})`,
	]);
	printTable(
		`Slurm fan-out, ${jobs} jobs (${machine()}, one-node Slurm, 2 jobs at once)`,
		[
			"what",
			"wall s",
			"vs limit (goal ≤ 1.2×)",
			"peak RSS MiB (goal < 300)",
			"scheduler commands/min with all jobs active (goal ≤ 12)",
		],
		rows,
	);
} finally {
	rmSync(dir, { recursive: true, force: true });
}
