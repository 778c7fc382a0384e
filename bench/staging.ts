// Staging figures (docs/data-staging.md):
//  1. stage-in from the S3 server of ../shared/services/s3.sh: 1,000 objects of 1 MB, and one 2 GiB object,
//     against a bare AWS SDK script doing the same transfer with the same parallelism (the limit here);
//  2. `orrery upload` of a tree of 10,000 small files against `tar | curl` of the same tree into the same server.
// Usage: npm run bench -- staging [objects=1000] [bigMiB=2048] [files=10000]
import { execFileSync, spawnSync } from "node:child_process";
import { createWriteStream, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, S3Client } from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";
import { benchServer, machine, median, now, printTable, timeShell } from "./bench-kit.js";

const root = resolve(import.meta.dirname, "../..");
const bin = join(root, "bin/orrery.js");
const objects = Number(process.argv[2] ?? 1000);
const bigMiB = Number(process.argv[3] ?? 2048);
const smallFiles = Number(process.argv[4] ?? 10000);
const concurrency = 16;

const s3env: Record<string, string> = {};
const out = execFileSync("bash", [resolve(root, "../shared/services/s3.sh")], {
	encoding: "utf8",
	stdio: ["ignore", "pipe", "ignore"],
});
for (const m of out.matchAll(/^export (\w+)=(.*)$/gm)) s3env[m[1] as string] = m[2] as string;
const endpoint = s3env.S3_ENDPOINT ?? "http://127.0.0.1:9000";
const bucket = s3env.S3_BUCKET ?? "test-bucket";
const client = new S3Client({
	endpoint,
	forcePathStyle: true,
	region: "us-east-1",
	credentials: { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" },
});

async function seed(): Promise<void> {
	const exists = (key: string) =>
		client.send(new HeadObjectCommand({ Bucket: bucket, Key: key })).then(
			() => true,
			() => false,
		);
	if (!(await exists(`bench-staging/many/${String(objects - 1).padStart(5, "0")}.bin`))) {
		const body = Buffer.alloc(1_000_000, 1);
		let next = 0;
		await Promise.all(
			Array.from({ length: 16 }, async () => {
				while (next < objects) {
					const i = next++;
					await new Upload({
						client,
						params: { Bucket: bucket, Key: `bench-staging/many/${String(i).padStart(5, "0")}.bin`, Body: body },
					}).done();
				}
			}),
		);
	}
	if (!(await exists(`bench-staging/big-${bigMiB}.bin`))) {
		const file = join(tmpdir(), `orrery-bench-big-${bigMiB}.bin`);
		spawnSync("dd", ["if=/dev/urandom", `of=${file}`, "bs=1M", `count=${bigMiB}`], { stdio: "ignore" });
		const { createReadStream } = await import("node:fs");
		await new Upload({
			client,
			params: { Bucket: bucket, Key: `bench-staging/big-${bigMiB}.bin`, Body: createReadStream(file) },
			partSize: 64 * 1024 * 1024,
		}).done();
		rmSync(file, { force: true });
	}
}

/** The bare SDK script: list, then GetObject → file, `concurrency` at once. */
async function sdkBaseline(prefix: string, into: string): Promise<number> {
	const t = now();
	const keys: string[] = [];
	let token: string | undefined;
	do {
		const page = await client.send(
			new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }),
		);
		for (const o of page.Contents ?? []) if (o.Key) keys.push(o.Key);
		token = page.IsTruncated ? page.NextContinuationToken : undefined;
	} while (token);
	let next = 0;
	await Promise.all(
		Array.from({ length: Math.min(concurrency, keys.length) }, async () => {
			while (next < keys.length) {
				const key = keys[next++] as string;
				const res = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
				const target = join(into, key);
				mkdirSync(dirname(target), { recursive: true });
				await pipeline(res.Body as Readable, createWriteStream(target));
			}
		}),
	);
	return now() - t;
}

interface Server {
	url: string;
	token: string;
	home: string;
	stop(): void;
}

async function startServer(): Promise<Server> {
	const home = mkdtempSync(join(tmpdir(), "orrery-bench-staging-"));
	const env = {
		...process.env,
		ORRERY_HOME: home,
		ORRERY_CONTAINER_RUNTIME: "none",
		ORRERY_LOG_LEVEL: "warn",
		ORRERY_S3_ENDPOINT: endpoint,
		ORRERY_STAGING_ALLOW_PRIVATE: "127.0.0.1",
		ORRERY_STAGING_CONCURRENCY: String(concurrency),
	};
	const { url, token, server } = await benchServer(bin, env, "b@example.org");
	const b64 = (s: string) => Buffer.from(s).toString("base64");
	await api({ url, token, home, stop: () => undefined }, "POST", "/api/secrets/", {
		AWS_ACCESS_KEY_ID: { value: b64("S3RVER"), type: "env" },
		AWS_SECRET_ACCESS_KEY: { value: b64("S3RVER"), type: "env" },
	});
	return { url, token, home, stop: () => server.kill("SIGTERM") };
}

async function api(s: Server, method: string, path: string, body?: unknown): Promise<unknown> {
	const res = await fetch(`${s.url}${path}`, {
		method,
		headers: {
			authorization: `Bearer ${s.token}`,
			...(body === undefined ? {} : { "content-type": "application/json" }),
		},
		...(body === undefined ? {} : { body: JSON.stringify(body) }),
	});
	return res.json();
}

/** Wall time from the start request to the staging_finished event of a run staging `remote`. */
async function orreryStageIn(s: Server, name: string, remote: unknown[]): Promise<number> {
	await api(s, "POST", `/api/workflows?workflow_name=${name}`, {
		inputs: { remote },
		workflow: { type: "serial", specification: { steps: [{ commands: ["true"] }] } },
	});
	const t = now();
	await api(s, "POST", `/api/workflows/${name}/start`, {});
	for (;;) {
		const events = (await api(s, "GET", `/api/workflows/${name}/events`)) as {
			items: Array<{ type: string; message: string }>;
		};
		if (events.items.some((e) => e.type === "staging_finished")) return now() - t;
		const failed = events.items.find((e) => e.type === "staging_failed" || e.type === "workflow_failed");
		if (failed) throw new Error(failed.message);
		await new Promise((r) => setTimeout(r, 20));
	}
}

async function stageInFigures(): Promise<void> {
	await seed();
	const s = await startServer();
	const rows: Array<Array<string | number>> = [];
	const cases = [
		{
			label: `${objects} objects of 1 MB`,
			prefix: "bench-staging/many/",
			mb: objects,
			remote: [{ url: `s3://${bucket}/bench-staging/many/`, path: "many" }],
		},
		{
			label: `1 object of ${bigMiB} MiB`,
			prefix: `bench-staging/big-${bigMiB}.bin`,
			mb: (bigMiB * 1024 * 1024) / 1e6,
			remote: [{ url: `s3://${bucket}/bench-staging/big-${bigMiB}.bin`, path: "big.bin" }],
		},
	];
	let n = 0;
	for (const c of cases) {
		const sdk: number[] = [];
		const orr: number[] = [];
		for (let i = 0; i < 3; i++) {
			const dir = mkdtempSync(join(tmpdir(), "orrery-bench-sdk-"));
			sdk.push(await sdkBaseline(c.prefix, dir));
			rmSync(dir, { recursive: true, force: true });
			orr.push(await orreryStageIn(s, `stage${n++}`, c.remote));
		}
		const a = median(orr);
		const b = median(sdk);
		rows.push([c.label, b / 1000, c.mb / (b / 1000), a / 1000, c.mb / (a / 1000), `${((b / a) * 100).toFixed(0)} %`]);
	}
	s.stop();
	rmSync(s.home, { recursive: true, force: true });
	printTable(
		`Stage-in from s3rver, ${concurrency} transfers at once (${machine()}; medians of 3)`,
		["transfer", "AWS SDK script s", "SDK MB/s", "Orrery stage-in s", "Orrery MB/s", "Orrery vs SDK"],
		rows,
	);
}

async function uploadFigures(): Promise<void> {
	const s = await startServer();
	const tree = mkdtempSync(join(tmpdir(), "orrery-bench-tree-"));
	for (let i = 0; i < smallFiles; i++) {
		const dir = join(tree, "data", `d${Math.floor(i / 100)}`);
		if (i % 100 === 0) mkdirSync(dir, { recursive: true });
		writeFileSync(join(dir, `f${i}.txt`), `${"x".repeat(1000 + (i % 3000))}\n`);
	}
	const bytes = Number(execFileSync("du", ["-sb", join(tree, "data")], { encoding: "utf8" }).split("\t")[0]);
	const rows: Array<Array<string | number>> = [];
	const tarCurl: number[] = [];
	const tarCurlUnpacked: number[] = [];
	const untar: number[] = [];
	const cli: number[] = [];
	const resumed: number[] = [];
	const started: number[] = [];
	const downloaded: number[] = [];
	const redownloaded: number[] = [];
	const cliEnv = `ORRERY_HOME=${s.home}/client ORRERY_SERVER_URL=${s.url} ORRERY_ACCESS_TOKEN=${s.token}`;
	// Each method starts from the same disk state: written data flushed (sync), nothing deleted just
	// before (deleting 10,000 files makes this disk slow to create files for a while; the unpacked
	// copies are removed at the end).
	const untarred: string[] = [];
	const settled = (command: string) => timeShell(`sync && ${command}`) - timeShell("sync");
	for (let i = 0; i < 3; i++) {
		await api(s, "POST", `/api/workflows?workflow_name=up${i}`, {
			workflow: { type: "serial", specification: { steps: [{ commands: ["true"] }] } },
		});
		tarCurl.push(
			settled(
				`tar -c -C ${tree} data | curl -sf -X POST -H 'Authorization: Bearer ${s.token}' -H 'content-type: application/octet-stream' -T - '${s.url}/api/workflows/up${i}/workspace?file_name=tree.tar' > /dev/null`,
			),
		);
		// The same pipe into the archive endpoint: the server unpacks it, the end state of `orrery upload`.
		await api(s, "POST", `/api/workflows?workflow_name=unpacked${i}`, {
			workflow: { type: "serial", specification: { steps: [{ commands: ["true"] }] } },
		});
		tarCurlUnpacked.push(
			settled(
				`tar -c -C ${tree} data | curl -sf -X POST -H 'Authorization: Bearer ${s.token}' -H 'content-type: application/x-tar' -T - '${s.url}/api/workflows/unpacked${i}/workspace-archive' > /dev/null`,
			),
		);
		const into = mkdtempSync(join(tmpdir(), "orrery-bench-untar-"));
		untarred.push(into);
		untar.push(settled(`tar -c -C ${tree} data | tar -x -C ${into}`));
		cli.push(settled(`cd ${tree} && ${cliEnv} ${process.execPath} ${bin} upload -w up${i} data 2>/dev/null`));
		resumed.push(settled(`cd ${tree} && ${cliEnv} ${process.execPath} ${bin} upload -w up${i} data 2>/dev/null`));
		started.push(timeShell(`${process.execPath} ${bin} --version > /dev/null`));
		const back = mkdtempSync(join(tmpdir(), "orrery-bench-back-"));
		untarred.push(back);
		downloaded.push(settled(`cd ${back} && ${cliEnv} ${process.execPath} ${bin} download -w up${i} data 2>/dev/null`));
		redownloaded.push(
			settled(`cd ${back} && ${cliEnv} ${process.execPath} ${bin} download -w up${i} data 2>/dev/null`),
		);
	}
	for (const into of untarred) rmSync(into, { recursive: true, force: true });
	const base = median(tarCurl);
	const measured: Array<[string, number[]]> = [
		["tar piped to curl (one file: the tree as a tar)", tarCurl],
		["tar piped to curl into the archive endpoint (the server unpacks it)", tarCurlUnpacked],
		["tar piped to tar -x (unpacking the tree locally, no network)", untar],
		["orrery --version (the CLI's start alone: the floor of any orrery command)", started],
		["orrery upload (unpacked into the workspace)", cli],
		["orrery upload again (all unchanged, skipped)", resumed],
		["orrery download of the same tree (unpacked here)", downloaded],
		["orrery download again (all unchanged, skipped)", redownloaded],
	];
	for (const [label, times] of measured)
		rows.push([label, median(times) / 1000, `${(median(times) / base).toFixed(2)}×`]);
	s.stop();
	rmSync(s.home, { recursive: true, force: true });
	rmSync(tree, { recursive: true, force: true });
	printTable(
		`Upload of ${smallFiles} small files (${(bytes / 1e6).toFixed(1)} MB) into a server process (${machine()}; medians of 3)`,
		["method", "wall s", "vs tar + curl"],
		rows,
	);
}

if (objects > 0) await stageInFigures();
await uploadFigures();
client.destroy();
