import { existsSync, mkdtempSync, readFileSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { systemClock } from "../../src/common/index.js";
import { pruneCacheEntries } from "../../src/db/index.js";
import { JobCaching } from "../../src/scheduler/job-cache.js";
import { testDialects } from "../support/databases.js";
import { startTestServer, type TestServer, waitForStatus } from "../support/test-server.js";

/**
 * CACHE=on on a real server with the local backend: each step appends a line to a marker file outside
 * the workspace, so the marker counts the times a step really ran.
 */
describe.each(testDialects)("reusing the results of earlier jobs (%s)", (dialect) => {
	let t: TestServer;
	let token: string;
	let marks: string;
	let runs = 0;

	beforeAll(async () => {
		t = await startTestServer(dialect);
		token = (await t.user("cache@example.org")).token;
		marks = mkdtempSync(join(tmpdir(), "orrery-cache-marks-"));
	});
	afterAll(async () => {
		await t.close();
		rmSync(marks, { recursive: true, force: true });
	});

	const marker = (name: string) => join(marks, name);
	const ranTimes = (name: string) =>
		existsSync(marker(name)) ? readFileSync(marker(name), "utf8").split("\n").filter(Boolean).length : 0;
	const steps = (mark: string, secondCommand?: string) => [
		{
			name: "upper",
			commands: [
				`echo upper >> ${marker(`${mark}-upper`)}; echo "upper said this"; mkdir -p out && tr a-z A-Z < in.txt > out/a.txt && ln -s out/a.txt latest && rm drop.txt`,
			],
		},
		{
			name: "count",
			commands: [secondCommand ?? `echo count >> ${marker(`${mark}-count`)}; wc -c < out/a.txt > out/b.txt`],
		},
	];

	/** Creates a run with its inputs, starts it and waits for it to end. */
	async function run(
		mark: string,
		input: string,
		options: Record<string, string> = { CACHE: "on" },
		secondCommand?: string,
	) {
		runs += 1;
		const name = `cache${runs}`;
		const spec = { workflow: { type: "serial", specification: { steps: steps(mark, secondCommand) } } };
		expect((await t.call("POST", `/api/workflows?workflow_name=${name}`, { token, body: spec })).ok).toBe(true);
		for (const [file, text] of [
			["in.txt", input],
			["drop.txt", "to be removed\n"],
		])
			await t.call("POST", `/api/workflows/${name}/workspace?file_name=${file}`, { token, raw: text });
		await t.call("POST", `/api/workflows/${name}/start`, { token, body: { operational_options: options } });
		const status = (await waitForStatus(t, token, name)) as { status: string; workspace_path?: string };
		expect(status.status).toBe("finished");
		const wf = await t.server.db.kysely
			.selectFrom("workflows")
			.selectAll()
			.where("name", "=", name)
			.executeTakeFirstOrThrow();
		const jobs = await t.server.db.kysely
			.selectFrom("jobs")
			.selectAll()
			.where("workflow_id", "=", wf.id)
			.orderBy("seq")
			.execute();
		const logs = JSON.parse(
			((await (await t.call("GET", `/api/workflows/${name}/logs`, { token })).json()) as { logs: string }).logs,
		) as {
			workflow_logs: string;
			job_logs: Record<string, { logs: string }>;
			job_details: Record<string, { cached_from?: string | null }>;
		};
		return { name, workspace: wf.workspace_path, jobs, logs };
	}

	it("runs a step again only when its command or the workspace it starts from changed", async () => {
		const first = await run("a", "hello\n");
		expect([ranTimes("a-upper"), ranTimes("a-count")]).toEqual([1, 1]);
		expect(first.jobs.map((j) => j.cached_from)).toEqual([null, null]);

		// The same command on the same inputs, in a new run (a new workspace): nothing runs.
		const second = await run("a", "hello\n");
		expect([ranTimes("a-upper"), ranTimes("a-count")]).toEqual([1, 1]);
		expect(second.jobs.map((j) => j.cached_from)).toEqual(first.jobs.map((j) => j.id));
		expect(readFileSync(join(second.workspace, "out/a.txt"), "utf8")).toBe("HELLO\n");
		expect(readFileSync(join(second.workspace, "out/b.txt"), "utf8").trim()).toBe("6");
		expect(readlinkSync(join(second.workspace, "latest"))).toBe("out/a.txt");
		expect(existsSync(join(second.workspace, "drop.txt"))).toBe(false);
		expect(second.logs.workflow_logs).toMatch(
			/upper: not run, the results of cache1\.1 reused \(same command, image and workspace content; 1 file copied\)/,
		);
		const secondUpper = second.jobs[0]?.id as string;
		expect(second.logs.job_logs[secondUpper]?.logs).toBe("upper said this\n");
		expect(second.logs.job_details[secondUpper]?.cached_from).toBe(first.jobs[0]?.id);

		// Other input content: both steps run.
		const third = await run("a", "other\n");
		expect([ranTimes("a-upper"), ranTimes("a-count")]).toEqual([2, 2]);
		expect(readFileSync(join(third.workspace, "out/a.txt"), "utf8")).toBe("OTHER\n");

		// Only the second step's command changed: the first is reused, the second runs.
		const fourth = await run("a", "hello\n", { CACHE: "on" }, "wc -l < out/a.txt > out/b.txt");
		expect(ranTimes("a-upper")).toBe(2);
		expect(fourth.jobs.map((j) => j.cached_from)).toEqual([first.jobs[0]?.id, null]);
		expect(readFileSync(join(fourth.workspace, "out/b.txt"), "utf8").trim()).toBe("1");
	}, 120_000);

	it("runs every step without CACHE=on", async () => {
		await run("b", "hello\n");
		await run("b", "hello\n", {});
		await run("b", "hello\n", { CACHE: "off" });
		expect([ranTimes("b-upper"), ranTimes("b-count")]).toEqual([3, 3]);
	}, 120_000);

	it("runs a step when the files of the run it would reuse have changed since", async () => {
		const first = await run("c", "hello\n");
		writeFileSync(join(first.workspace, "out/a.txt"), "TAMPERED\n");
		const second = await run("c", "hello\n");
		expect(ranTimes("c-upper")).toBe(2);
		expect(readFileSync(join(second.workspace, "out/a.txt"), "utf8")).toBe("HELLO\n");
		expect(second.jobs[0]?.cached_from).toBeNull();
		// The entry that no longer holds was dropped; the new run's results are used from now on.
		const third = await run("c", "hello\n");
		expect(ranTimes("c-upper")).toBe(2);
		expect(third.jobs[0]?.cached_from).toBe(second.jobs[0]?.id);
	}, 120_000);

	it("never reuses a deleted run's results, and forgets its entries", async () => {
		const first = await run("d", "hello\n");
		const entries = () =>
			t.server.db.kysely
				.selectFrom("job_cache")
				.select("job_id")
				.where(
					"job_id",
					"in",
					first.jobs.map((j) => j.id),
				)
				.execute();
		expect(await entries()).toHaveLength(2);
		expect((await t.call("PUT", `/api/workflows/${first.name}/status?status=deleted`, { token, body: {} })).ok).toBe(
			true,
		);
		const second = await run("d", "hello\n");
		expect(ranTimes("d-upper")).toBe(2);
		expect(second.jobs[0]?.cached_from).toBeNull();
		expect(await pruneCacheEntries(t.server.db)).toBeGreaterThanOrEqual(2);
		expect(await entries()).toHaveLength(0);
	}, 120_000);

	it("finishes a reuse cut off half-way (a server died while placing the files) instead of running the job on them", async () => {
		const first = await run("e", "hello\n");
		const source = await t.server.db.kysely
			.selectFrom("workflows")
			.selectAll()
			.where("name", "=", first.name.split(".")[0] as string)
			.executeTakeFirstOrThrow();
		const sourceJob = first.jobs[0] as (typeof first.jobs)[number];
		// The state a server leaves when it dies while placing the results of `upper` into another run:
		// the job is `created` and names the job it reuses; of its files, only the link is in place yet.
		const workspace = mkdtempSync(join(tmpdir(), "orrery-cache-resume-"));
		writeFileSync(join(workspace, "in.txt"), "hello\n");
		writeFileSync(join(workspace, "drop.txt"), "to be removed\n");
		symlinkSync("out/a.txt", join(workspace, "latest"));
		const wf = { ...source, id: "resumed-run", run_number: 99, status: "created" as const, workspace_path: workspace };
		await t.server.db.kysely.insertInto("workflows").values(wf).execute();
		const job = {
			...sourceJob,
			id: "resumed-job",
			workflow_id: wf.id,
			status: "created" as const,
			cached_from: sourceJob.id,
			job_dir: join(workspace, ".orrery/jobs/1"),
			exit_code: null,
			finished_at: null,
		};
		await t.server.db.kysely.insertInto("jobs").values(job).execute();
		let woken: () => void = () => undefined;
		const caching = new JobCaching(
			{ db: t.server.db, clock: systemClock, logger: pino({ level: "silent" }) },
			() => woken(),
			() => true,
		);
		const decided = new Promise<void>((resolve) => {
			woken = resolve;
		});
		expect(caching.check(wf, job)).toBe("busy");
		await decided;
		const decision = caching.check(wf, job);
		expect(decision !== "busy" && decision.hit && decision.from.job_id).toBe(sourceJob.id);
		expect(readFileSync(join(workspace, "out/a.txt"), "utf8")).toBe("HELLO\n");
		expect(readlinkSync(join(workspace, "latest"))).toBe("out/a.txt");
		expect(existsSync(join(workspace, "drop.txt"))).toBe(false);
		expect(ranTimes("e-upper")).toBe(1);
		caching.forget(wf.id);
		rmSync(workspace, { recursive: true, force: true });
	});

	it("refuses an unknown CACHE value at start", async () => {
		const spec = { workflow: { type: "serial", specification: { steps: [{ name: "s", commands: ["true"] }] } } };
		await t.call("POST", "/api/workflows?workflow_name=badcache", { token, body: spec });
		const res = await t.call("POST", "/api/workflows/badcache/start", {
			token,
			body: { operational_options: { CACHE: "sometimes" } },
		});
		expect(res.status).toBe(400);
		expect(((await res.json()) as { message: string }).message).toMatch(/CACHE=sometimes is neither on nor off/);
	});
});
