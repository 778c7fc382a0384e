// Runs the built `orrery` CLI and an `orrery server` process for the CWL tests (real processes, temp homes).
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** The repository root and its built CLI. */
export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
export const orreryBin = join(repoRoot, "bin/orrery.js");

/** True when `npm run build` has produced the CLI the tests drive. */
export function isBuilt(): boolean {
	return existsSync(join(repoRoot, "dist/main.js"));
}

/** What a finished CLI run printed. */
export interface CliResult {
	code: number | null;
	stdout: string;
	stderr: string;
}

/** Runs `orrery …` to its end. */
export function orrery(
	args: string[],
	env: NodeJS.ProcessEnv,
	cwd = repoRoot,
	timeoutMs = 120_000,
): Promise<CliResult> {
	const child = spawn(process.execPath, [orreryBin, ...args], {
		cwd,
		env: { ...process.env, ...env },
		stdio: ["ignore", "pipe", "pipe"],
	});
	let stdout = "";
	let stderr = "";
	child.stdout.on("data", (d: Buffer) => {
		stdout += d.toString();
	});
	child.stderr.on("data", (d: Buffer) => {
		stderr += d.toString();
	});
	const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
	return new Promise((done) =>
		child.on("close", (code) => {
			clearTimeout(timer);
			done({ code, stdout, stderr });
		}),
	);
}

/** A temporary folder with some files in it. */
export async function folderWith(files: Record<string, string>): Promise<string> {
	const dir = await mkdtemp(join(tmpdir(), "orrery-cwl-test-"));
	for (const [name, text] of Object.entries(files)) {
		await writeFile(join(dir, name), text);
	}
	return dir;
}

/** Removes a temporary folder. */
export async function removeFolder(dir: string): Promise<void> {
	await rm(dir, { recursive: true, force: true });
}

/** A free TCP port on 127.0.0.1. */
export async function freePort(): Promise<number> {
	const server = createServer();
	await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
	const port = (server.address() as { port: number }).port;
	await new Promise((r) => server.close(r));
	return port;
}

/** An `orrery server` process on a fixed port with its own home. */
export interface ServerProcess {
	url: string;
	child: ChildProcess;
}

/** Starts `orrery server` and waits until it listens. */
export async function startServer(home: string, port: number, env: NodeJS.ProcessEnv = {}): Promise<ServerProcess> {
	const child = spawn(process.execPath, [orreryBin, "server", "--port", String(port)], {
		env: { ...process.env, ORRERY_HOME: home, ORRERY_CONTAINER_RUNTIME: "none", ORRERY_LOG_LEVEL: "warn", ...env },
		stdio: ["ignore", "ignore", "pipe"],
	});
	let log = "";
	const url = await new Promise<string>((done, fail) => {
		const timer = setTimeout(() => fail(new Error(`orrery server did not start: ${log}`)), 60_000);
		child.stderr?.on("data", (d: Buffer) => {
			log += d.toString();
			const m = /listening on (http:\/\/\S+)/.exec(log);
			if (m) {
				clearTimeout(timer);
				done(m[1] as string);
			}
		});
		child.on("exit", (code) => fail(new Error(`orrery server exited with ${code}: ${log}`)));
	});
	return { url, child };
}

/** Calls the API with a token and returns the parsed JSON body. */
export async function api(
	url: string,
	token: string,
	method: string,
	path: string,
	body?: unknown,
): Promise<Record<string, unknown>> {
	const isRaw = typeof body === "string";
	const res = await fetch(`${url}${path}`, {
		method,
		headers: {
			authorization: `Bearer ${token}`,
			...(body === undefined ? {} : { "content-type": isRaw ? "application/octet-stream" : "application/json" }),
		},
		...(body === undefined ? {} : { body: isRaw ? body : JSON.stringify(body) }),
	});
	const json = (await res.json()) as Record<string, unknown>;
	if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
	return json;
}

/** The environment of a CLI that runs CWL on its embedded server (home `home`), on the host. */
export function embeddedEnv(home: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
	return { ORRERY_HOME: home, ORRERY_SERVER_URL: "", REANA_SERVER_URL: "", ORRERY_CONTAINER_RUNTIME: "none", ...extra };
}

/** `orrery cwl-runner --quiet --outdir DIR/out …` in `dir`. */
export function cwlRunner(dir: string, env: NodeJS.ProcessEnv, ...args: string[]): Promise<CliResult> {
	return orrery(["cwl-runner", "--quiet", "--outdir", join(dir, "out"), ...args], env, dir);
}
