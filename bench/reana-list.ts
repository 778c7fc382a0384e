// GET /api/workflows (a page of 20) with 10,000 runs in the database: p50 and p99 over 1,000
// requests, on SQLite and on PostgreSQL. Usage: npm run bench -- reana-list [--runs N] [--requests N]
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sql } from "kysely";
import { pino } from "pino";
import { createUser, issueToken } from "../src/auth/index.js";
import { newId, systemClock } from "../src/common/index.js";
import { readServerConfig } from "../src/config/index.js";
import type { WorkflowRow } from "../src/db/index.js";
import { OrreryServer } from "../src/server/index.js";
import { testDatabase } from "../test/support/databases.js";
import { median, now, percentile, printTable } from "./bench-kit.js";

const arg = (name: string, fallback: number) => {
	const i = process.argv.indexOf(name);
	return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const runs = arg("--runs", 10_000);
const requests = arg("--requests", 1_000);

async function measure(dialect: "sqlite" | "postgres"): Promise<Array<Array<string | number>>> {
	const home = mkdtempSync(join(tmpdir(), "orrery-bench-list-"));
	const database = testDatabase(dialect);
	const server = await OrreryServer.open({
		config: readServerConfig({ ORRERY_HOME: home, ORRERY_CONTAINER_RUNTIME: "none", ...database.env }),
		logger: pino({ level: "silent" }),
		runScheduler: false,
	});
	const url = await server.listen("127.0.0.1", 0);
	const user = await createUser(server.db, { email: "list@example.org" }, systemClock);
	const { value: token } = await issueToken(
		server.db,
		user,
		{ name: "b", scopes: ["read"], expiresAt: null },
		systemClock,
	);
	const statuses = ["finished", "failed", "stopped", "finished", "created"] as const;
	const progress = JSON.stringify({
		total: { total: 3, job_ids: [] },
		running: { total: 0, job_ids: [] },
		finished: { total: 3, job_ids: [] },
		failed: { total: 0, job_ids: [] },
		current_step_name: null,
		current_command: null,
	});
	for (let start = 0; start < runs; start += 500) {
		const rows: WorkflowRow[] = [];
		for (let i = start; i < Math.min(runs, start + 500); i++) {
			const at = new Date(Date.UTC(2026, 0, 1) + i * 60_000).toISOString();
			rows.push({
				id: newId(),
				name: `analysis-${i % 50}`,
				run_number: Math.floor(i / 50) + 1,
				run_minor: 0,
				owner_id: user.id,
				type: "serial",
				status: statuses[i % statuses.length] as WorkflowRow["status"],
				status_message: null,
				spec: '{"workflow":{"type":"serial","specification":{"steps":[{"commands":["true"]}]}}}',
				parameters: "{}",
				options: "{}",
				workspace_path: `/nowhere/${i}`,
				progress,
				outputs: null,
				created_at: at,
				updated_at: at,
				started_at: at,
				finished_at: at,
				stop_requested_at: null,
				restart_of: null,
				disk_bytes: 0,
				lease_owner: null,
				lease_expires_at: null,
				workflow_files: null,
			});
		}
		await server.db.kysely.insertInto("workflows").values(rows).execute();
	}
	// A database in service has planner statistics (autovacuum); a bulk load needs them gathered.
	if (dialect === "postgres") await sql`analyze workflows`.execute(server.db.kysely);
	const headers = { authorization: `Bearer ${token}` };
	const one = async (page: number) => {
		const t = now();
		const res = await fetch(`${url}/api/workflows?type=batch&page=${page}&size=20`, { headers });
		await res.arrayBuffer();
		if (!res.ok) throw new Error(`HTTP ${res.status}`);
		return now() - t;
	};
	for (let i = 0; i < 50; i++) await one(1 + (i % 10)); // warm up
	const first: number[] = [];
	for (let i = 0; i < requests; i++) first.push(await one(1));
	const any: number[] = [];
	for (let i = 0; i < requests; i++) any.push(await one(1 + ((i * 37) % (runs / 20))));
	await server.close();
	await database.drop();
	rmSync(home, { recursive: true, force: true });
	const row = (pages: string, t: number[]) => [
		dialect,
		runs,
		pages,
		requests,
		median(t),
		percentile(t, 99),
		percentile(t, 99) < 50 ? "yes" : "no",
	];
	return [row("first page", first), row("pages 1–500", any)];
}

const rows: Array<Array<string | number>> = [];
for (const d of ["sqlite", "postgres"] as const) rows.push(...(await measure(d)));
printTable(
	"GET /api/workflows, a page of 20 (one client, sequential requests)",
	["database", "runs", "pages", "requests", "p50 ms", "p99 ms", "p99 < 50 ms"],
	rows,
);
