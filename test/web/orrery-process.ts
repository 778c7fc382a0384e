// A real `orrery server` process on a temporary ORRERY_HOME and a free port, for end-to-end tests and benches.
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { existsSync, mkdtempSync, openSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { promisify } from "node:util";
import { endSessionsUnder } from "../support/jupyter.js";

const run = promisify(execFile);

/** The package root: the nearest folder above this file with bin/orrery.js (this file may run compiled elsewhere). */
export const packageRoot = (() => {
	let dir = import.meta.dirname;
	while (!existsSync(join(dir, "bin/orrery.js")) && dirname(dir) !== dir) dir = dirname(dir);
	return dir;
})();
const cli = join(packageRoot, "bin/orrery.js");

/** A running server with one user. */
export interface OrreryProcess {
	url: string;
	home: string;
	token: string;
	userId: string;
	env: NodeJS.ProcessEnv;
	stop(): Promise<void>;
}

/** The environment of a server on `home`: SQLite there, jobs on the host, nothing inherited that points elsewhere. */
export function serverEnv(home: string): NodeJS.ProcessEnv {
	const env: NodeJS.ProcessEnv = {
		...process.env,
		ORRERY_HOME: home,
		ORRERY_CONTAINER_RUNTIME: "none",
		ORRERY_LOG_LEVEL: "warn",
	};
	for (const k of Object.keys(env))
		if (
			/^(ORRERY_(DATABASE|SERVER_URL|ACCESS_TOKEN|WORKSPACE_ROOT|PORT|HOST|OIDC|TOKEN|SESSION|PUBLIC_URL)|REANA_)/.test(
				k,
			)
		)
			delete env[k];
	return env;
}

/** A TCP port nobody listens on right now. */
export async function freePort(): Promise<number> {
	return new Promise((done, fail) => {
		const s = createServer();
		s.once("error", fail);
		s.listen(0, "127.0.0.1", () => {
			const address = s.address();
			const port = typeof address === "object" && address ? address.port : 0;
			s.close(() => done(port));
		});
	});
}

/** Creates a user with `orrery admin create-user` (an administrator with `isAdmin`) and returns its id and token. */
export async function createUser(
	env: NodeJS.ProcessEnv,
	email: string,
	options: { isAdmin?: boolean } = {},
): Promise<{ id: string; token: string }> {
	const args = [cli, "admin", "create-user", "--email", email, "--json", ...(options.isAdmin ? ["--admin"] : [])];
	const { stdout } = await run(process.execPath, args, { env });
	return JSON.parse(stdout) as { id: string; token: string };
}

async function waitForPing(url: string, child: ChildProcess, timeoutMs: number): Promise<void> {
	const deadline = Date.now() + timeoutMs;
	while (Date.now() < deadline) {
		if (child.exitCode !== null) throw new Error(`the server exited with ${child.exitCode}`);
		const ok = await fetch(`${url}/api/ping`).then(
			(r) => r.ok,
			() => false,
		);
		if (ok) return;
		await new Promise((r) => setTimeout(r, 100));
	}
	throw new Error(`the server did not answer at ${url} within ${timeoutMs} ms`);
}

/** Starts `node bin/orrery.js server` on a fresh home with one user; `prepare` may fill the database first. */
export async function startOrrery(
	options: {
		email?: string;
		prepare?: (home: string, user: { id: string; token: string }) => Promise<void>;
		/** More settings for the server, which may depend on its port. */
		settings?: (port: number) => Record<string, string>;
	} = {},
): Promise<OrreryProcess> {
	const home = mkdtempSync(join(tmpdir(), "orrery-web-"));
	const port = await freePort();
	const env = { ...serverEnv(home), ...options.settings?.(port) };
	const user = await createUser(env, options.email ?? "web@example.org");
	await options.prepare?.(home, user);
	const log = openSync(join(home, "server.log"), "a");
	const child = spawn(process.execPath, [cli, "server", "--host", "127.0.0.1", "--port", String(port)], {
		env,
		stdio: ["ignore", log, log],
	});
	const url = `http://127.0.0.1:${port}`;
	const stop = async () => {
		if (child.exitCode === null && child.signalCode === null) {
			const exited = new Promise((r) => child.once("exit", r));
			child.kill("SIGTERM");
			const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
			await exited;
			clearTimeout(timer);
		}
		endSessionsUnder(home);
		rmSync(home, { recursive: true, force: true });
	};
	try {
		await waitForPing(url, child, 20_000);
	} catch (error) {
		await stop();
		throw error;
	}
	return { url, home, token: user.token, userId: user.id, env, stop };
}
