// The runs page with 10,000 runs in the database: time until the table is shown on first load in headless
// Chromium (goal < 1.5 s), the list API behind it, and the gzipped JavaScript bundle (goal < 500 kB).
// Run: npm run build && npm run bench -- ui-runs-page [runs]
import { randomUUID } from "node:crypto";
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { brotliCompressSync, gzipSync } from "node:zlib";
import { openDatabase, type WorkflowRow } from "../src/db/index.js";
import { launchChromium } from "../test/web/chromium.js";
import { packageRoot, startOrrery } from "../test/web/orrery-process.js";
import { machine, median, now, printTable } from "./bench-kit.js";

const runCount = Number(process.argv[2] ?? 10_000);
const names = ["higgs-fit", "galaxy-survey", "cmb-spectrum", "lightcurve", "photometry", "dark-matter-halo"];
const statuses = ["finished", "finished", "finished", "finished", "failed", "finished", "stopped", "created"] as const;

/** Inserts `count` finished-looking runs for one user straight through src/db (the API would take minutes). */
async function insertRuns(home: string, ownerId: string, count: number): Promise<void> {
	const db = await openDatabase({ url: join(home, "orrery.db") });
	try {
		const start = Date.now() - count * 60_000;
		const perName = new Map<string, number>();
		const rows: WorkflowRow[] = [];
		for (let i = 0; i < count; i++) {
			const name = names[i % names.length] as string;
			const run = (perName.get(name) ?? 0) + 1;
			perName.set(name, run);
			const status = statuses[i % statuses.length] as WorkflowRow["status"];
			const created = new Date(start + i * 60_000).toISOString();
			const ended = new Date(start + i * 60_000 + 45_000).toISOString();
			const jobs = [randomUUID(), randomUUID(), randomUUID()];
			const id = randomUUID();
			rows.push({
				id,
				name,
				run_number: run,
				run_minor: 0,
				owner_id: ownerId,
				type: "serial",
				status,
				status_message: status === "failed" ? "step 'fit' failed with exit code 1" : null,
				spec: "{}",
				parameters: "{}",
				options: "{}",
				workspace_path: join(home, "workspaces", id),
				progress: JSON.stringify({
					total: { total: 3, job_ids: jobs },
					running: { total: 0, job_ids: [] },
					finished: {
						total: status === "finished" ? 3 : status === "created" ? 0 : 1,
						job_ids: status === "finished" ? jobs : status === "created" ? [] : jobs.slice(0, 1),
					},
					failed: { total: status === "failed" ? 1 : 0, job_ids: status === "failed" ? jobs.slice(1, 2) : [] },
					current_step_name: "fit",
					current_command: "python fit.py",
				}),
				outputs: null,
				created_at: created,
				updated_at: ended,
				started_at: status === "created" ? null : new Date(start + i * 60_000 + 1000).toISOString(),
				finished_at: status === "created" ? null : ended,
				stop_requested_at: null,
				lease_owner: null,
				lease_expires_at: null,
				workflow_files: null,
				restart_of: null,
				disk_bytes: null,
			});
		}
		await db.kysely.transaction().execute(async (trx) => {
			for (let i = 0; i < rows.length; i += 500)
				await trx
					.insertInto("workflows")
					.values(rows.slice(i, i + 500))
					.execute();
		});
	} finally {
		await db.close();
	}
}

/** Gzip (level 9, as served) and brotli sizes of the built JavaScript and CSS. */
function bundleSizes(): { js: number; jsGzip: number; jsBrotli: number; cssGzip: number } {
	const dir = join(packageRoot, "dist/web/assets");
	const files = readdirSync(dir);
	const sum = (ext: string, f: (b: Buffer) => number) =>
		files.filter((n) => n.endsWith(ext)).reduce((t, n) => t + f(readFileSync(join(dir, n))), 0);
	return {
		js: sum(".js", (b) => b.length),
		jsGzip: sum(".js", (b) => gzipSync(b, { level: 9 }).length),
		jsBrotli: sum(".js", (b) => brotliCompressSync(b).length),
		cssGzip: sum(".css", (b) => gzipSync(b, { level: 9 }).length),
	};
}

async function timeApi(url: string, token: string, query: string, times = 10): Promise<number> {
	const samples: number[] = [];
	for (let i = 0; i < times; i++) {
		const t = now();
		const res = await fetch(`${url}/api/workflows?${query}`, { headers: { authorization: `Bearer ${token}` } });
		await res.arrayBuffer();
		samples.push(now() - t);
	}
	return median(samples);
}

/** Milliseconds from navigation start until the runs table has rows, in a page that is signed in. */
async function timeTable(page: import("playwright-core").Page, url: string): Promise<number> {
	await page.goto(url);
	// waitForSelector runs in Playwright's own world, so the page's CSP (no eval) does not stop it.
	await page.waitForSelector("tr[data-run-id]");
	return page.evaluate<number>("performance.now()");
}

const kB = (n: number) => `${(n / 1000).toFixed(1)} kB`;
const ms = (n: number) => `${Math.round(n)} ms`;

const t0 = now();
const server = await startOrrery({
	email: "bench@example.org",
	prepare: (home, user) => insertRuns(home, user.id, runCount),
});
const setup = now() - t0;
try {
	const api = {
		first: await timeApi(server.url, server.token, "page=1&size=50"),
		last: await timeApi(server.url, server.token, `page=${Math.ceil(runCount / 50)}&size=50`),
		search: await timeApi(server.url, server.token, "search=galaxy&page=1&size=50"),
		failed: await timeApi(server.url, server.token, "status=failed&page=1&size=50"),
	};
	const cold: number[] = [];
	const warm: number[] = [];
	let lastPage = 0;
	let cls = 0;
	for (let i = 0; i < 5; i++) {
		const browser = await launchChromium();
		try {
			const page = browser.context.pages()[0] ?? (await browser.context.newPage());
			await page.addInitScript(`sessionStorage.setItem("orrery.access-token", ${JSON.stringify(server.token)})`);
			cold.push(await timeTable(page, `${server.url}/runs`));
			warm.push(await timeTable(page, `${server.url}/runs`));
			if (i === 0) {
				// Cumulative layout shift of the load just measured plus one automatic refresh (goal: well under 0.1).
				await page.waitForTimeout(5500);
				cls = await page.evaluate<number>(`new Promise((done) => {
					let total = 0;
					new PerformanceObserver((list) => {
						for (const e of list.getEntries()) if (!e.hadRecentInput) total += e.value;
					}).observe({ type: "layout-shift", buffered: true });
					setTimeout(() => done(total), 200);
				})`);
				lastPage = await timeTable(page, `${server.url}/runs?page=${Math.ceil(runCount / 50)}`);
				mkdirSync(join(packageRoot, "test-output/web"), { recursive: true });
				await page.goto(`${server.url}/runs`);
				await page.waitForSelector("tr[data-run-id]");
				await page.screenshot({ path: join(packageRoot, "test-output/web/bench-runs-10000.png") });
			}
		} finally {
			await browser.close();
		}
	}
	const size = bundleSizes();
	printTable(
		`Runs page with ${runCount.toLocaleString("en")} runs (${machine()}, headless Chromium)`,
		["measure", "value", "goal"],
		[
			["first load, empty cache: table shown (median of 5)", ms(median(cold)), "< 1500 ms"],
			["first load, empty cache: slowest of 5", ms(Math.max(...cold)), ""],
			["reload, warm cache: table shown (median of 5)", ms(median(warm)), ""],
			[`load of the last page (${Math.ceil(runCount / 50)}), warm cache`, ms(lastPage), ""],
			["layout shift (CLS): first load and one automatic refresh", cls.toFixed(3), "< 0.1"],
			["API: GET /api/workflows page 1, 50 runs (median of 10)", ms(api.first), ""],
			["API: last page", ms(api.last), ""],
			["API: search=galaxy", ms(api.search), ""],
			["API: status=failed", ms(api.failed), ""],
			["JavaScript, minified", kB(size.js), ""],
			["JavaScript, gzip -9 (served precompressed)", kB(size.jsGzip), "< 500 kB"],
			["JavaScript, brotli (served when accepted)", kB(size.jsBrotli), ""],
			["CSS, gzip -9", kB(size.cssGzip), ""],
			[`setup: ${runCount.toLocaleString("en")} rows inserted, server started`, ms(setup), ""],
		],
	);
	const out = join(packageRoot, "bench/out");
	mkdirSync(out, { recursive: true });
	writeFileSync(
		join(out, "ui-runs-page.json"),
		`${JSON.stringify({ runCount, cold, warm, lastPage, cls, api, size, machine: machine() }, null, 2)}\n`,
	);
} finally {
	await server.stop();
}
