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

async function serialOverhead(steps: number): Promise<{ loop: number; orrery: number; startup: number }> {
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
	await call("POST", "/api/workflows?workflow_name=bench", spec);
	const startup = now() - t0;
	const t1 = now();
	await call("POST", "/api/workflows/bench/start", {});
	// Follow as `orrery run` does: long polls on the event log.
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
	const orrery = now() - t1;
	await server.close();
	rmSync(home, { recursive: true, force: true });
	const loop = timeShell(`i=0; while [ $i -lt ${steps} ]; do sh -c true; i=$((i+1)); done`);
	return { loop, orrery, startup };
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

const serial = await serialOverhead(200);
printTable(
	"200-step serial workflow of `true`, local backend",
	["measure", "ms", "goal"],
	[
		["shell loop, 200 × sh -c true (the limit)", serial.loop, ""],
		["Orrery, start → finished", serial.orrery, `≤ 2 × loop = ${(2 * serial.loop).toFixed(0)} ms + start-up`],
		["ratio Orrery / loop", serial.orrery / serial.loop, "≤ 2"],
		["start-up: open server, migrate, create run", serial.startup, "< 1000 ms"],
		["per step", serial.orrery / 200, ""],
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
