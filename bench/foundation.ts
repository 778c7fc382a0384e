// Figures of the foundation issue: CLI cold start, 200-step serial overhead, 1 GiB upload/download.
// Usage: npm run bench -- foundation [--skip-transfer] [--serial-only]
// (--serial-only runs just the serial workflow, e.g. under `node --cpu-prof` to profile the scheduler;
// BENCH_DIR=/dev/shm puts its server home and workspaces on another filesystem, to see the disk's share)
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pino } from "pino";
import { createUser, issueToken } from "../src/auth/index.js";
import { systemClock } from "../src/common/index.js";
import { readServerConfig } from "../src/config/index.js";
import { OrreryServer } from "../src/server/index.js";
import { benchServer, machine, median, now, peakRssMiB, printTable, timeShell } from "./bench-kit.js";

const root = resolve(import.meta.dirname, "../..");
const bin = join(root, "bin/orrery.js");

function coldStart(): { orrery: number; node: number } {
	const runs = (args: string[]) =>
		Array.from({ length: 10 }, () => {
			const t = now();
			spawnSync(process.execPath, args, { stdio: "ignore" });
			return now() - t;
		});
	runs([bin, "--version"]); // warm the file cache
	return { orrery: median(runs([bin, "--version"])), node: median(runs(["-e", "0"])) };
}

/** Creates, starts and follows (long polls on the event log, as `orrery run` does) a serial run of `true` steps. */
async function runSerial(url: string, token: string, steps: number): Promise<{ created: number; ran: number }> {
	const call = async (method: string, path: string, body?: unknown) => {
		const res = await fetch(`${url}${path}`, {
			method,
			headers: {
				authorization: `Bearer ${token}`,
				...(body === undefined ? {} : { "content-type": "application/json" }),
			},
			...(body === undefined ? {} : { body: JSON.stringify(body) }),
		});
		return (await res.json()) as Record<string, unknown>;
	};
	const spec = {
		workflow: {
			type: "serial",
			specification: { steps: Array.from({ length: steps }, (_, i) => ({ name: `s${i}`, commands: ["true"] })) },
		},
	};
	const t0 = now();
	await call("POST", "/api/workflows?workflow_name=bench", spec);
	const created = now() - t0;
	const t1 = now();
	await call("POST", "/api/workflows/bench/start", {});
	for (let after = 0; ; ) {
		const events = (await call("GET", `/api/workflows/bench/events?after=${after}&wait=5`)) as {
			status: string;
			items: Array<{ id: number }>;
		};
		for (const e of events.items) after = Math.max(after, e.id);
		if (["finished", "failed"].includes(events.status)) {
			if (events.status !== "finished") throw new Error("the benchmark workflow failed");
			break;
		}
	}
	return { created, ran: now() - t1 };
}

/** The serial run with the server in this process (as the embedded default runs it). */
async function serialInProcess(steps: number): Promise<{ orrery: number; startup: number }> {
	const home = mkdtempSync(join(process.env.BENCH_DIR ?? tmpdir(), "orrery-bench-"));
	const t0 = now();
	const server = await OrreryServer.open({
		config: readServerConfig({ ORRERY_HOME: home, ORRERY_CONTAINER_RUNTIME: "none" }),
		logger: pino({ level: "silent" }),
	});
	const url = await server.listen("127.0.0.1", 0);
	const user = await createUser(server.db, { email: "b@example.org" }, systemClock);
	const { value: token } = await issueToken(
		server.db,
		user,
		{ name: "b", scopes: ["read", "write", "run"], expiresAt: null },
		systemClock,
	);
	const opened = now() - t0;
	const { created, ran } = await runSerial(url, token, steps);
	await server.close();
	rmSync(home, { recursive: true, force: true });
	return { orrery: ran, startup: opened + created };
}

/** The serial run against `orrery server` in its own process (the follower's work is then not the server's). */
async function serialSeparate(steps: number): Promise<{ orrery: number }> {
	const home = mkdtempSync(join(process.env.BENCH_DIR ?? tmpdir(), "orrery-bench-"));
	const env = { ...process.env, ORRERY_HOME: home, ORRERY_CONTAINER_RUNTIME: "none", ORRERY_LOG_LEVEL: "warn" };
	const { url, token, server } = await benchServer(bin, env, "s@example.org");
	const { ran } = await runSerial(url, token, steps);
	server.kill("SIGTERM");
	await new Promise((r) => server.once("exit", r));
	rmSync(home, { recursive: true, force: true });
	return { orrery: ran };
}

async function transfer(sizeMiB: number): Promise<Array<Array<string | number>>> {
	const home = mkdtempSync(join(tmpdir(), "orrery-bench-xfer-"));
	const file = join(home, "big.bin");
	spawnSync("dd", ["if=/dev/urandom", `of=${file}`, "bs=1M", `count=${sizeMiB}`], { stdio: "ignore" });
	const env = { ...process.env, ORRERY_HOME: home, ORRERY_CONTAINER_RUNTIME: "none", ORRERY_LOG_LEVEL: "warn" };
	const { url, token, server } = await benchServer(bin, env, "x@example.org");
	const headers = { authorization: `Bearer ${token}` };
	await fetch(`${url}/api/workflows?workflow_name=xfer`, {
		method: "POST",
		headers: { ...headers, "content-type": "application/json" },
		body: JSON.stringify({ workflow: { type: "serial", specification: { steps: [{ commands: ["true"] }] } } }),
	});
	// Medians of three: this machine is shared, and single transfers vary by a factor of two.
	const med = (run: () => number) => median([run(), run(), run()]);
	const cpTime = med(() => timeShell(`cp ${file} ${file}.copy && sync ${file}.copy && rm ${file}.copy`));
	const api = `${url}/api/workflows/xfer/workspace`;
	const auth = `-H 'Authorization: Bearer ${token}'`;
	const upload = med(() =>
		timeShell(
			`curl -sf -X POST ${auth} -H 'content-type: application/octet-stream' -T ${file} '${api}?file_name=big.bin' > /dev/null`,
		),
	);
	const download = med(() => timeShell(`curl -sf ${auth} -o ${file}.down '${api}/big.bin' && rm ${file}.down`));
	const cliEnv = `ORRERY_HOME=${home}/client ORRERY_SERVER_URL=${url} ORRERY_ACCESS_TOKEN=${token}`;
	const cliUpload = med(() =>
		timeShell(`cd ${home} && ${cliEnv} ${process.execPath} ${bin} upload --no-resume -w xfer big.bin 2>/dev/null`),
	);
	const cliDownload = med(() =>
		timeShell(
			`${cliEnv} ${process.execPath} ${bin} download -w xfer big.bin -o ${home}/out 2>/dev/null && rm -r ${home}/out`,
		),
	);
	const rss = peakRssMiB(server.pid as number);
	server.kill("SIGTERM");
	rmSync(home, { recursive: true, force: true });
	const mbps = (ms: number) => (sizeMiB / (ms / 1000)).toFixed(0);
	const row = (name: string, ms: number) => [
		name,
		ms,
		mbps(ms),
		`${((cpTime / ms) * 100).toFixed(0)} %`,
		rss.toFixed(0),
	];
	return [
		["cp (the limit)", cpTime, mbps(cpTime), "100 %", ""],
		row("upload through the API (curl)", upload),
		row("download through the API (curl)", download),
		row("orrery upload", cliUpload),
		row("orrery download", cliDownload),
	];
}

const serialOnly = process.argv.includes("--serial-only");
if (!serialOnly) {
	const cold = coldStart();
	printTable(
		`orrery --version cold start, median of 10 (${machine()})`,
		["command", "median ms", "goal"],
		[
			["node -e 0 (Node itself)", cold.node, ""],
			["orrery --version", cold.orrery, "≤ 150 ms"],
		],
	);
}

const inProcess = await serialInProcess(200);
const separate = await serialSeparate(200);
const loop = timeShell("i=0; while [ $i -lt 200 ]; do sh -c true; i=$((i+1)); done");
printTable(
	"200-step serial workflow of `true`, local backend",
	["measure", "server in this process (embedded)", "server process of its own", "goal"],
	[
		["shell loop, 200 × sh -c true (the limit), ms", loop, loop, ""],
		["Orrery, start → finished, ms", inProcess.orrery, separate.orrery, `≤ 2 × loop = ${(2 * loop).toFixed(0)} ms`],
		["ratio Orrery / loop", inProcess.orrery / loop, separate.orrery / loop, "≤ 2"],
		["per step, ms", inProcess.orrery / 200, separate.orrery / 200, ""],
		["start-up: open the database, migrate, listen, create the run, ms", inProcess.startup, "", "< 1000 ms"],
	],
);

if (!serialOnly && !process.argv.includes("--skip-transfer")) {
	const sizeMiB = Number(process.env.BENCH_TRANSFER_MIB ?? 1024);
	printTable(
		`${sizeMiB} MiB file through the API vs cp (server in its own process)`,
		["transfer", "ms", "MiB/s", "of cp", "server peak RSS MiB"],
		await transfer(sizeMiB),
	);
}
