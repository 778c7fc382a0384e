import { type ChildProcess, spawn } from "node:child_process";
import { createServer } from "node:net";
import { resolve } from "node:path";

/** The built CLI (npm run build makes it; `npm test` builds first). */
export const orreryBin = resolve(import.meta.dirname, "../../bin/orrery.js");

/** The output of a finished CLI run. */
export interface CliResult {
	code: number;
	stdout: string;
	stderr: string;
	ms: number;
}

/** Runs `orrery …` as a real process and collects its output. */
export function orrery(
	args: string[],
	env: Record<string, string | undefined>,
	options: { cwd?: string; timeoutMs?: number } = {},
): Promise<CliResult> {
	const started = Date.now();
	return new Promise((done, fail) => {
		const child = spawn(process.execPath, [orreryBin, ...args], {
			cwd: options.cwd ?? resolve(import.meta.dirname, "../.."),
			env: cleanEnv(env),
			stdio: ["ignore", "pipe", "pipe"],
		});
		let stdout = "";
		let stderr = "";
		child.stdout.on("data", (d) => {
			stdout += d;
		});
		child.stderr.on("data", (d) => {
			stderr += d;
		});
		const timer = setTimeout(() => {
			child.kill("SIGKILL");
			fail(new Error(`orrery ${args.join(" ")} timed out\nstdout: ${stdout}\nstderr: ${stderr}`));
		}, options.timeoutMs ?? 60_000);
		child.on("error", fail);
		child.on("close", (code) => {
			clearTimeout(timer);
			done({ code: code ?? -1, stdout, stderr, ms: Date.now() - started });
		});
	});
}

/** The test process's environment without any server or token settings, plus the given ones. */
export function cleanEnv(env: Record<string, string | undefined>): NodeJS.ProcessEnv {
	const base = { ...process.env };
	for (const k of Object.keys(base)) if (/^(ORRERY_|REANA_)/.test(k)) delete base[k];
	return { ...base, ORRERY_CONTAINER_RUNTIME: "none", NO_COLOR: "1", ...env };
}

/** A free TCP port on the loopback interface. */
export function freePort(): Promise<number> {
	return new Promise((done, fail) => {
		const s = createServer();
		s.listen(0, "127.0.0.1", () => {
			const address = s.address();
			const port = typeof address === "object" && address ? address.port : 0;
			s.close(() => done(port));
		});
		s.on("error", fail);
	});
}

/** A separately started `orrery server` process. */
export interface ServerProcess {
	url: string;
	child: ChildProcess;
	output(): string;
	/** Kills the process (SIGKILL by default) and waits for it to be gone. */
	kill(signal?: NodeJS.Signals): Promise<void>;
}

/** Starts `orrery server` on a free port and waits until it answers ping. */
export async function startServerProcess(env: Record<string, string>, port?: number): Promise<ServerProcess> {
	const p = port ?? (await freePort());
	const child = spawn(process.execPath, [orreryBin, "server", "--port", String(p)], {
		env: cleanEnv({ ORRERY_LOG_LEVEL: "warn", ...env }),
		stdio: ["ignore", "pipe", "pipe"],
	});
	let out = "";
	child.stdout?.on("data", (d) => {
		out += d;
	});
	child.stderr?.on("data", (d) => {
		out += d;
	});
	const url = `http://127.0.0.1:${p}`;
	const end = Date.now() + 30_000;
	for (;;) {
		if (child.exitCode !== null) throw new Error(`orrery server exited (${child.exitCode}):\n${out}`);
		try {
			const res = await fetch(`${url}/api/ping`);
			if (res.ok) break;
		} catch {
			// not listening yet
		}
		if (Date.now() > end) throw new Error(`orrery server did not start:\n${out}`);
		await new Promise((r) => setTimeout(r, 100));
	}
	return {
		url,
		child,
		output: () => out,
		kill: (signal = "SIGKILL") =>
			new Promise((done) => {
				if (child.exitCode !== null || child.signalCode !== null) return done();
				child.once("exit", () => done());
				child.kill(signal);
			}),
	};
}
