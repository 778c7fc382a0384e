import { type ChildProcess, spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { jobFiles, shQuote } from "../job-folder.js";
import { which } from "./container-runtime.js";

/** Starts a job's wrapper in its own session, detached from the server; calls back when it ends. */
export interface JobLauncher {
	start(jobDir: string): void;
	close(): void;
}

// The shell reads one job folder per line and starts its wrapper as a new session (so it outlives the
// server and a stop can kill its whole process group); when the wrapper ends, it prints the folder.
const launcherScript = `while IFS= read -r d; do ( SETSID -w /bin/sh "$d/${jobFiles.wrapper}" </dev/null >/dev/null 2>&1; printf '%s\\n' "$d" ) & done`;

/**
 * Picks the cheapest way to start jobs here. Forking the server (a large process) for every job costs
 * milliseconds of its event loop; a small long-lived shell that forks instead costs a fraction of
 * that. It needs util-linux's `setsid`; without it (macOS), each job is spawned from the server.
 */
export async function jobLauncherFactory(): Promise<(onEnded: (jobDir: string) => void) => JobLauncher> {
	const setsid = await which("setsid");
	return (onEnded) => (setsid ? new ShellLauncher(setsid, onEnded) : spawnLauncher(onEnded));
}

function spawnLauncher(onEnded: (jobDir: string) => void): JobLauncher {
	return {
		start(jobDir) {
			const child = spawn("/bin/sh", [`${jobDir}/${jobFiles.wrapper}`], {
				detached: true,
				stdio: "ignore",
				cwd: jobDir,
			});
			child.on("error", () => onEnded(jobDir));
			child.on("exit", () => onEnded(jobDir));
			child.unref();
		},
		close() {},
	};
}

/** The long-lived shell launcher; restarted if it dies, so a job is never left unstarted. */
class ShellLauncher implements JobLauncher {
	private shell: ChildProcess | undefined;
	private isClosed = false;

	constructor(
		private readonly setsid: string,
		private readonly onEnded: (jobDir: string) => void,
	) {}

	private ensure(): ChildProcess {
		if (this.shell && this.shell.exitCode === null && !this.shell.killed) return this.shell;
		const shell = spawn("/bin/sh", ["-c", launcherScript.replace("SETSID", shQuote(this.setsid))], {
			stdio: ["pipe", "pipe", "ignore"],
		});
		createInterface({ input: shell.stdout as NodeJS.ReadableStream }).on("line", (dir) => this.onEnded(dir));
		shell.on("exit", () => {
			if (this.shell === shell) this.shell = undefined;
		});
		shell.stdin?.on("error", () => undefined); // a dead shell is replaced at the next start
		// The shell must not keep the server alive, nor die with it before its jobs are started.
		shell.unref();
		(shell.stdin as unknown as { unref?: () => void })?.unref?.();
		(shell.stdout as unknown as { unref?: () => void })?.unref?.();
		this.shell = shell;
		return shell;
	}

	start(jobDir: string): void {
		if (this.isClosed) throw new Error("the job launcher is closed");
		this.ensure().stdin?.write(`${jobDir}\n`);
	}

	close(): void {
		this.isClosed = true;
		this.shell?.stdin?.end();
	}
}
