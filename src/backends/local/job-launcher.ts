import { type ChildProcess, spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { jobFiles, notifyArgument, shQuote } from "../job-folder.js";
import { which } from "./container-runtime.js";

/** Starts a job's wrapper in its own process group, detached from the server; calls back when it ends. */
export interface JobLauncher {
	start(jobDir: string): void;
	close(): void;
}

// bash with job control puts each background job in a process group of its own, whose id is the
// wrapper's pid (so a stop can kill the whole group), with no process started for that: the wrapper
// is the forked child itself. The wrapper reports its end on fd 3, a copy of the shell's stdout.
// The shell runs in a session of its own (no terminal): a Ctrl-C or hang-up of the terminal that
// started the server reaches neither it nor the jobs.
const bashLauncherScript = `set -m; while IFS= read -r d; do /bin/sh "$d/${jobFiles.wrapper}" ${notifyArgument} 3>&1 </dev/null >/dev/null 2>&1 & done`;
// Without bash: util-linux's setsid gives each wrapper a session (and group) of its own, at the cost
// of one more program started per job; the subshell reports the end.
const setsidLauncherScript = `while IFS= read -r d; do ( SETSID -w /bin/sh "$d/${jobFiles.wrapper}" </dev/null >/dev/null 2>&1; printf '%s\\n' "$d" ) & done`;

/**
 * Picks the cheapest way to start jobs here. Forking the server (a large process) for every job costs
 * milliseconds of its event loop; a small long-lived shell that forks instead costs a fraction of
 * that, and each program it need not start (setsid) saves another half millisecond per job on a
 * virtual machine. Without bash or setsid (a minimal container), each job is spawned from the server.
 */
export async function jobLauncherFactory(
	options: { recycleAfter?: number } = {},
): Promise<(onEnded: (jobDir: string) => void) => JobLauncher> {
	const [bash, setsid] = await Promise.all([which("bash"), which("setsid")]);
	// --posix: bash then reads no BASH_ENV (a site's module set-up must not run in, or print into, the launcher).
	if (bash)
		return (onEnded) => new ShellLauncher([bash, "--posix"], bashLauncherScript, true, onEnded, options.recycleAfter);
	if (setsid)
		return (onEnded) =>
			new ShellLauncher(
				["/bin/sh"],
				setsidLauncherScript.replace("SETSID", shQuote(setsid)),
				false,
				onEnded,
				options.recycleAfter,
			);
	return spawnLauncher;
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

/**
 * The long-lived shell launcher; restarted if it dies, so a job is never left unstarted, and replaced
 * every `recycleAfter` jobs: a shell remembers each background job it started (bash about 32 bytes
 * each), which over millions of jobs would add up. A replaced shell exits once it has read its last
 * line; the wrappers it started keep its stdout open and still report their ends through it.
 */
export class ShellLauncher implements JobLauncher {
	private shell: ChildProcess | undefined;
	private isClosed = false;
	private started = 0;

	constructor(
		private readonly program: readonly string[],
		private readonly script: string,
		private readonly isDetached: boolean,
		private readonly onEnded: (jobDir: string) => void,
		private readonly recycleAfter = 10_000,
	) {}

	/** The shell's process id (for tests), undefined before the first job. */
	get pid(): number | undefined {
		return this.shell?.pid;
	}

	private ensure(): ChildProcess {
		if (this.shell && this.shell.exitCode === null && !this.shell.killed) return this.shell;
		const [command, ...args] = this.program as [string, ...string[]];
		const shell = spawn(command, [...args, "-c", this.script], {
			stdio: ["pipe", "pipe", "ignore"],
			detached: this.isDetached,
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
		const shell = this.ensure();
		shell.stdin?.write(`${jobDir}\n`);
		if (++this.started >= this.recycleAfter) {
			this.started = 0;
			this.shell = undefined; // the next job starts a fresh shell
			shell.stdin?.end();
		}
	}

	close(): void {
		this.isClosed = true;
		this.shell?.stdin?.end();
	}
}
