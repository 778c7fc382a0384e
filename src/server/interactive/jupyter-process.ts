import { execFileSync, spawn } from "node:child_process";
import { closeSync, existsSync, mkdirSync, openSync, readFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { AppError } from "../../common/index.js";

/** A Jupyter server started for a session: its process (a group of its own) and its port. */
export interface JupyterProcess {
	pid: number;
	port: number;
}

/** Where a session answers, below the server's own address and on the Jupyter server itself. */
export function sessionBase(sessionId: string): string {
	return `/sessions/${sessionId}/`;
}

/** A port nobody listens on now, on the loopback interface. */
async function freePort(): Promise<number> {
	return new Promise((found, fail) => {
		const probe = createServer();
		probe.once("error", fail);
		probe.listen(0, "127.0.0.1", () => {
			const address = probe.address();
			probe.close(() => (typeof address === "object" && address ? found(address.port) : fail(new Error("no port"))));
		});
	});
}

/** True when the process (group leader) is alive. */
export function isAlive(pid: number): boolean {
	try {
		process.kill(pid, 0);
	} catch (error) {
		return (error as NodeJS.ErrnoException).code === "EPERM";
	}
	// A process of this server's that ended and is not yet reaped (a zombie) is not alive.
	if (!hasProc) return true;
	try {
		const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
		return stat.charAt(stat.lastIndexOf(")") + 2) !== "Z";
	} catch {
		return false;
	}
}

const hasProc = existsSync("/proc/self/stat");

/** True when the session's Jupyter server answers its API with the session's token. */
export async function answers(port: number, sessionId: string, token: string): Promise<boolean> {
	try {
		const res = await fetch(`http://127.0.0.1:${port}${sessionBase(sessionId)}api/status`, {
			headers: { authorization: `token ${token}` },
			signal: AbortSignal.timeout(2000),
		});
		await res.body?.cancel();
		return res.ok;
	} catch {
		return false;
	}
}

/** What a session's Jupyter server needs. */
export interface JupyterOptions {
	/** The `jupyter` program (its `notebook` subcommand is run). */
	command: string;
	sessionId: string;
	/** The folder it serves: the run's workspace. */
	workspace: string;
	token: string;
	/** A folder of the session's own: Jupyter's runtime files and its log. */
	folder: string;
	/** How long it may take to answer (ms). */
	timeoutMs: number;
	/** Unused this long (no request, no kernel busy), it ends itself: idle kernels are culled, then the server stops. 0: never. */
	maxIdleSeconds: number;
	/** Called with the process id as soon as it exists (before it answers), so that it can be stopped. */
	onSpawn?: (pid: number) => void;
}

/**
 * The environment a session's Jupyter (and its kernels) gets: the user-facing basics only, never the
 * server's settings and credentials (database URL, keys, provider secrets).
 */
export function sessionEnvironment(base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
	const kept =
		/^(PATH|HOME|USER|LOGNAME|SHELL|LANG|LANGUAGE|LC_[A-Z]+|TZ|TMPDIR|TERM|PYTHONPATH|JUPYTER_(CONFIG_DIR|DATA_DIR|PATH))$/;
	return Object.fromEntries(Object.entries(base).filter(([k]) => kept.test(k)));
}

/**
 * Starts a Jupyter notebook server on the loopback interface, serving the workspace below the
 * session's address, in a process group of its own (it outlives the server that started it, as jobs
 * do); its token comes through the environment (not the command line, which other users can read).
 * Resolves once it answers; a server that exits or does not answer in time is an error that quotes
 * the end of its log.
 */
export async function startJupyter(options: JupyterOptions): Promise<JupyterProcess> {
	mkdirSync(join(options.folder, "runtime"), { recursive: true, mode: 0o700 });
	mkdirSync(join(options.folder, "data"), { recursive: true, mode: 0o700 });
	const logPath = join(options.folder, "jupyter.log");
	const port = await freePort();
	const log = openSync(logPath, "a", 0o600);
	const args = [
		"notebook",
		"--no-browser",
		"--ip=127.0.0.1",
		`--port=${port}`,
		"--NotebookApp.port_retries=0",
		`--NotebookApp.base_url=${sessionBase(options.sessionId)}`,
		`--notebook-dir=${options.workspace}`,
		...(options.maxIdleSeconds > 0
			? [
					`--NotebookApp.shutdown_no_activity_timeout=${options.maxIdleSeconds}`,
					`--MappingKernelManager.cull_idle_timeout=${options.maxIdleSeconds}`,
					`--MappingKernelManager.cull_interval=${Math.min(3600, options.maxIdleSeconds)}`,
				]
			: []),
		...(process.getuid?.() === 0 ? ["--allow-root"] : []),
	];
	let exited: string | undefined;
	const child = (() => {
		try {
			return spawn(options.command, args, {
				cwd: options.workspace,
				detached: true,
				stdio: ["ignore", log, log],
				env: {
					...sessionEnvironment(),
					JUPYTER_TOKEN: options.token,
					JUPYTER_RUNTIME_DIR: join(options.folder, "runtime"),
					// Its own data folder: the notebook trust database and its signing secret are per session,
					// so a notebook one user signed (ran) is not trusted, and its scripts not run, in another's.
					JUPYTER_DATA_DIR: join(options.folder, "data"),
				},
			});
		} finally {
			closeSync(log);
		}
	})();
	const started = new Promise<void>((ok, fail) => {
		child.once("spawn", ok);
		child.once("error", (error: NodeJS.ErrnoException) =>
			fail(
				new AppError(
					"backend_unavailable",
					error.code === "ENOENT"
						? `interactive sessions need Jupyter on the server's host: '${options.command}' was not found (install it, e.g. apt-get install jupyter-notebook, or set ORRERY_JUPYTER_COMMAND)`
						: `Jupyter could not be started: ${error.message}`,
				),
			),
		);
	});
	child.once("exit", (code, signal) => {
		exited = signal ? `signal ${signal}` : `exit code ${code}`;
	});
	child.unref();
	await started;
	const pid = child.pid as number;
	options.onSpawn?.(pid);
	const deadline = Date.now() + options.timeoutMs;
	while (!(await answers(port, options.sessionId, options.token))) {
		if (exited !== undefined || Date.now() > deadline) {
			if (exited === undefined) {
				try {
					process.kill(-pid, "SIGKILL");
				} catch {
					// gone meanwhile
				}
			}
			throw new AppError(
				"backend_unavailable",
				`Jupyter did not start (${exited ?? `no answer in ${Math.round(options.timeoutMs / 1000)} s`}): ${lastLines(logPath)}`,
			);
		}
		await new Promise((r) => setTimeout(r, 150));
	}
	return { pid, port };
}

/**
 * Stops a session's Jupyter server and its kernels: the kernels are shut down through Jupyter's API
 * first (each runs in a session of its own, out of reach of a signal to Jupyter's group), then the
 * group is sent SIGTERM, and SIGKILL after 10 s; kernel processes still there (their command line
 * names a connection file in the session's folder) are killed too.
 */
export async function stopJupyter(session: {
	pid: number;
	port: number | null;
	id: string;
	token: string;
	folder: string;
}): Promise<void> {
	if (session.port !== null) {
		const base = `http://127.0.0.1:${session.port}${sessionBase(session.id)}api/kernels`;
		const headers = { authorization: `token ${session.token}` };
		try {
			const kernels = (await (await fetch(base, { headers, signal: AbortSignal.timeout(2000) })).json()) as Array<{
				id: string;
			}>;
			await Promise.all(
				kernels.map((k) =>
					fetch(`${base}/${k.id}`, { method: "DELETE", headers, signal: AbortSignal.timeout(5000) }).catch(
						() => undefined,
					),
				),
			);
		} catch {
			// not answering: the signals below
		}
	}
	const signal = (name: NodeJS.Signals) => {
		try {
			process.kill(-session.pid, name);
		} catch {
			// already gone
		}
	};
	signal("SIGTERM");
	killKernels(session.folder, "SIGTERM");
	setTimeout(() => {
		if (isAlive(session.pid)) signal("SIGKILL");
		killKernels(session.folder, "SIGKILL");
	}, 10_000).unref();
}

/** Signals the kernel processes of a session, found by the connection files in its folder. */
function killKernels(folder: string, name: NodeJS.Signals): void {
	let out = "";
	try {
		out = execFileSync("ps", ["-eo", "pid=,args="], { encoding: "utf8" });
	} catch {
		return;
	}
	for (const line of out.split("\n")) {
		if (!line.includes(`${join(folder, "runtime")}/kernel-`)) continue;
		try {
			process.kill(Number(line.trim().split(/\s+/)[0]), name);
		} catch {
			// gone meanwhile
		}
	}
}

function lastLines(path: string): string {
	try {
		return readFileSync(path, "utf8").trim().split("\n").slice(-3).join(" | ").slice(-600) || "(no output)";
	} catch {
		return "(no log)";
	}
}
