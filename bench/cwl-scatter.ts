// A scatter of N trivial CWL steps (`echo $i > out`) on the local backend, against the same commands
// through `seq N | xargs -P2` (the limit on 2 cores) and, when installed, cwltool.
// Usage: npm run bench -- cwl-scatter [N=1000] [--postgres URL]
// With --postgres, Orrery also runs on that PostgreSQL server (a schema of its own, dropped after),
// and the row shows how many transactions the server committed for the run.
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { machine, now, printTable } from "./bench-kit.js";

const root = resolve(import.meta.dirname, "../..");
const bin = join(root, "bin/orrery.js");
const args = process.argv.slice(2);
const pgAt = args.indexOf("--postgres");
const postgresUrl = pgAt >= 0 ? args.splice(pgAt, 2)[1] : undefined;
if (pgAt >= 0 && !postgresUrl) throw new Error("--postgres needs a URL, e.g. postgres://postgres@127.0.0.1:5432/test");
const n = Number(args[0] ?? 1000);

const workflow = `cwlVersion: v1.2
class: Workflow
requirements:
  ScatterFeatureRequirement: {}
inputs:
  n: int[]
outputs:
  out:
    type: File[]
    outputSource: echo/out
steps:
  echo:
    scatter: i
    in: {i: n}
    out: [out]
    run:
      class: CommandLineTool
      baseCommand: echo
      inputs:
        i: {type: int, inputBinding: {}}
      stdout: out
      outputs:
        out: stdout
`;

function timed(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = {}): number {
	const t = now();
	const r = spawnSync(command, args, {
		cwd,
		env: { ...process.env, ...env },
		stdio: ["ignore", "ignore", "pipe"],
		maxBuffer: 64 * 1024 * 1024,
	});
	if (r.status !== 0)
		throw new Error(`${command} ${args.join(" ")} exited ${r.status}: ${r.stderr.toString().slice(-2000)}`);
	return (now() - t) / 1000;
}

function hasCommand(name: string): boolean {
	return spawnSync("sh", ["-c", `command -v ${name}`], { stdio: "ignore" }).status === 0;
}

const dir = mkdtempSync(join(tmpdir(), "orrery-bench-cwl-"));
try {
	writeFileSync(join(dir, "scatter.cwl"), workflow);
	writeFileSync(join(dir, "job.json"), JSON.stringify({ n: Array.from({ length: n }, (_, i) => i + 1) }));
	const rows: Array<Array<string | number>> = [];
	const xargs = timed("sh", ["-c", `seq ${n} | xargs -P2 -I{} sh -c 'mkdir -p x/{} && echo {} > x/{}/out'`], dir);
	rows.push([`seq ${n} | xargs -P2 (the limit on 2 cores)`, xargs, 1]);
	const home = join(dir, "home");
	const orrery = timed(
		process.execPath,
		[bin, "cwl-runner", "--quiet", "--outdir", join(dir, "orrery-out"), "scatter.cwl", "job.json"],
		dir,
		{
			ORRERY_HOME: home,
			ORRERY_SERVER_URL: "",
			ORRERY_CONTAINER_RUNTIME: "none",
		},
	);
	rows.push(["orrery cwl-runner --quiet (embedded server, local backend)", orrery, orrery / xargs]);
	if (postgresUrl) {
		const { default: pg } = await import("pg");
		const client = new pg.Client({ connectionString: postgresUrl });
		await client.connect();
		const schema = `bench_scatter_${process.pid}`;
		const commits = async () =>
			Number(
				(await client.query("select xact_commit from pg_stat_database where datname = current_database()")).rows[0]
					.xact_commit,
			);
		try {
			const before = await commits();
			const onPostgres = timed(
				process.execPath,
				[bin, "cwl-runner", "--quiet", "--outdir", join(dir, "orrery-pg-out"), "scatter.cwl", "job.json"],
				dir,
				{
					ORRERY_HOME: join(dir, "home-pg"),
					ORRERY_SERVER_URL: "",
					ORRERY_CONTAINER_RUNTIME: "none",
					ORRERY_DATABASE_URL: postgresUrl,
					ORRERY_DATABASE_SCHEMA: schema,
				},
			);
			// The statistics are sent by each backend when it goes idle; give them a moment.
			await new Promise((r) => setTimeout(r, 1000));
			const committed = (await commits()) - before;
			rows.push([
				`orrery cwl-runner --quiet on PostgreSQL (${committed} commits in the database)`,
				onPostgres,
				onPostgres / xargs,
			]);
		} finally {
			await client.query(`drop schema if exists "${schema}" cascade`);
			await client.end();
		}
	}
	if (hasCommand("cwltool")) {
		const cwltool = timed("cwltool", ["--quiet", "--outdir", join(dir, "cwltool-out"), "scatter.cwl", "job.json"], dir);
		rows.push(["cwltool --quiet", cwltool, cwltool / xargs]);
		const parallel = timed(
			"cwltool",
			["--quiet", "--parallel", "--outdir", join(dir, "cwltool-par"), "scatter.cwl", "job.json"],
			dir,
		);
		rows.push(["cwltool --quiet --parallel", parallel, parallel / xargs]);
		rows.push(["orrery's speed-up over cwltool (best of the two)", Math.min(cwltool, parallel) / orrery, ""]);
	} else {
		rows.push(["cwltool (not installed)", "-", "-"]);
	}
	printTable(`CWL scatter of ${n} trivial steps (${machine()})`, ["run", "seconds", "× xargs"], rows);
} finally {
	rmSync(dir, { recursive: true, force: true });
}
