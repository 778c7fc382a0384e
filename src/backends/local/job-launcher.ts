import { type ChildProcess, spawn } from "node:child_process";
import { availableParallelism } from "node:os";
import { createInterface } from "node:readline";
import { inheritedEnvironment, jobFiles, notifyArgument, shQuote } from "../job-folder.js";
import { which } from "./container-runtime.js";

/** Starts a job's wrapper in its own process group, detached from the server; calls back when it ends. */
export interface JobLauncher {
	/**
	 * Jobs it runs at once, when it keeps a queue: it then accepts more jobs than that and starts each
	 * the moment a running one ends. Undefined: every job handed to it starts at once.
	 */
	readonly maxRunning: number | undefined;
	start(jobDir: string): void;
	/** The names of the variables its jobs inherit, as announced to them (see `inheritedEnvironment`). */
	readonly inheritedEnv: string | undefined;
	/** True while a job handed to it waits in the queue of a launcher that is still there to start it. */
	isWaiting(jobDir: string): boolean;
	/** Forgets a job whose start was seen otherwise (a poll), or that is given up as never started. */
	forget(jobDir: string): void;
	close(): void;
}

// A shell reads a pipe one byte at a time (it must not read past the line), so a job's folder in the
// same parent folder as the previous job's is sent as `=<name>` (a scatter's jobs share one): a dozen
// reads instead of two hundred.
const expandLine = `case $d in =*) d=$p/\${d#=} ;; *) p=\${d%/*} ;; esac;`;

// bash with job control puts each background job in a process group of its own, whose id is the
// wrapper's pid (so a stop can kill the whole group), with no process started for that: the wrapper
// is the forked child itself. The wrapper reports its end on fd 3, a copy of the shell's stdout.
// The shell runs in a session of its own (no terminal): a Ctrl-C or hang-up of the terminal that
// started the server reaches neither it nor the jobs.
// It runs at most $1 wrappers at once, as `xargs -P` does: with that many running it waits for one to
// end (`wait -n`, which also returns at once for one that ended meanwhile, or when none is left)
// before it reads the next job, which waits in the pipe until then. It reports each start as the
// job's folder after a `+` (a builtin write), so the server knows which jobs still wait. Before each
// start it checks that the server that started it is still there (`kill -0`, a builtin): a killed
// server's launcher stops, as a stopped server's does, instead of starting its queue beside the next
// server's launcher (which takes those jobs over).
const bashLauncherScript = `set -m; max=$1; n=0; while IFS= read -r d; do ${expandLine} while [ $n -ge $max ]; do wait -n; n=$((n-1)); done; kill -0 $PPID 2>/dev/null || exit 0; /bin/sh "$d/${jobFiles.wrapper}" ${notifyArgument} 3>&1 </dev/null >/dev/null 2>&1 & n=$((n+1)); printf '+%s\\n' "$d"; done`;
// Without bash: util-linux's setsid gives each wrapper a session (and group) of its own, at the cost
// of one more program started per job; the subshell reports the end.
const setsidLauncherScript = `while IFS= read -r d; do ${expandLine} ( SETSID -w /bin/sh "$d/${jobFiles.wrapper}" </dev/null >/dev/null 2>&1; printf '%s\\n' "$d" ) & done`;

/**
 * Picks the cheapest way to start jobs here. Forking the server (a large process) for every job costs
 * milliseconds of its event loop; a small long-lived shell that forks instead costs a fraction of
 * that, and each program it need not start (setsid) saves another half millisecond per job on a
 * virtual machine. Without bash or setsid (a minimal container), each job is spawned from the server.
 */
export async function jobLauncherFactory(
	options: { recycleAfter?: number; maxRunning?: number } = {},
): Promise<(onEnded: (jobDir: string) => void) => JobLauncher> {
	const [bash, setsid] = await Promise.all([which("bash"), which("setsid")]);
	// --posix: bash then reads no BASH_ENV (a site's module set-up must not run in, or print into, the launcher).
	if (bash) {
		const max = Math.max(1, options.maxRunning ?? availableParallelism());
		return (onEnded) =>
			new ShellLauncher([bash, "--posix"], bashLauncherScript, true, onEnded, options.recycleAfter, max);
	}
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
	const { env, names } = inheritedEnvironment();
	return {
		maxRunning: undefined,
		inheritedEnv: names,
		isWaiting: () => false,
		forget() {},
		start(jobDir) {
			const child = spawn("/bin/sh", [`${jobDir}/${jobFiles.wrapper}`], {
				env,
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
 * each), which over millions of jobs would add up. A replaced shell exits once it has started the
 * jobs it was given; the wrappers it started keep its stdout open and still report their ends through
 * it. With `maxRunning` the shell keeps a queue (see `bashLauncherScript`); a shell that dies with
 * jobs in it hands them to its successor (a job it had started meanwhile holds its lock, so the
 * second wrapper exits at once: no job runs twice).
 */
export class ShellLauncher implements JobLauncher {
	private shell: ChildProcess | undefined;
	private isClosed = false;
	private started = 0;
	/** Jobs handed to a shell with a queue that has not reported their start, and that shell. */
	private readonly waiting = new Map<string, ChildProcess>();
	/** Shells replaced on purpose: they exit once they have started their jobs. */
	private readonly retired = new WeakSet<ChildProcess>();
	/** Every shell still running (the current one, and replaced ones starting their last jobs). */
	private readonly shells = new Set<ChildProcess>();
	/** When jobs of a dead shell were last handed to a new one (ms). */
	private lastRescue = 0;
	/** The parent folder of the last job sent to the current shell (see `expandLine`). */
	private sentParent: string | undefined;
	/** What the current shell announces to its jobs (see `inheritedEnvironment`). */
	private envNames: string | undefined;

	constructor(
		private readonly program: readonly string[],
		private readonly script: string,
		private readonly isDetached: boolean,
		private readonly onEnded: (jobDir: string) => void,
		private readonly recycleAfter = 10_000,
		readonly maxRunning: number | undefined = undefined,
	) {}

	/** The shell's process id (for tests), undefined before the first job. */
	get pid(): number | undefined {
		return this.shell?.pid;
	}

	private ensure(): ChildProcess {
		if (this.shell && this.shell.exitCode === null && !this.shell.killed) return this.shell;
		const [command, ...args] = this.program as [string, ...string[]];
		const { env, names } = inheritedEnvironment();
		const shell = spawn(command, [...args, "-c", this.script, "orrery-launcher", String(this.maxRunning ?? 0)], {
			env,
			stdio: ["pipe", "pipe", "ignore"],
			detached: this.isDetached,
		});
		this.envNames = names;
		createInterface({ input: shell.stdout as NodeJS.ReadableStream }).on("line", (line) => {
			if (line.startsWith("+"))
				this.waiting.delete(line.slice(1)); // started (folders are absolute paths)
			else {
				this.waiting.delete(line);
				this.onEnded(line);
			}
		});
		this.shells.add(shell);
		this.sentParent = undefined;
		shell.on("exit", () => {
			this.shells.delete(shell);
			if (this.shell === shell) this.shell = undefined;
			if (this.isClosed || this.retired.has(shell)) return;
			// Died (killed): what it had not started yet goes to a new shell, at once the first time and at
			// most once a second after that (a shell that cannot run at all is not restarted in a loop; its
			// jobs read as never started once the start grace is over).
			const orphans = [...this.waiting].filter(([, owner]) => owner === shell).map(([dir]) => dir);
			if (orphans.length === 0) return;
			const delay = Math.max(0, this.lastRescue + 1000 - Date.now());
			this.lastRescue = Date.now() + delay;
			setTimeout(() => {
				if (this.isClosed) return;
				for (const dir of orphans) if (this.waiting.get(dir) === shell) this.start(dir);
			}, delay).unref();
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
		const slash = jobDir.lastIndexOf("/");
		const parent = jobDir.slice(0, slash);
		shell.stdin?.write(parent === this.sentParent ? `=${jobDir.slice(slash + 1)}\n` : `${jobDir}\n`);
		this.sentParent = parent;
		if (this.maxRunning !== undefined) this.waiting.set(jobDir, shell);
		if (++this.started >= this.recycleAfter) {
			this.started = 0;
			this.shell = undefined; // the next job starts a fresh shell
			this.retired.add(shell);
			shell.stdin?.end();
		}
	}

	/** The current shell's announcement (it is started for this, if need be: a job follows). */
	get inheritedEnv(): string | undefined {
		if (this.isClosed) return undefined;
		this.ensure();
		return this.envNames;
	}

	isWaiting(jobDir: string): boolean {
		const shell = this.waiting.get(jobDir);
		return shell !== undefined && shell.exitCode === null && shell.signalCode === null;
	}

	forget(jobDir: string): void {
		this.waiting.delete(jobDir);
	}

	/**
	 * Stops starting jobs: the shells are ended, and the jobs still in a queue stay unstarted until a
	 * launcher of the next server takes them (`LocalBackend` hands them over at their first poll).
	 * Running jobs go on: each is a process group of its own, which the signal does not reach.
	 */
	close(): void {
		this.isClosed = true;
		for (const shell of this.shells) {
			shell.stdin?.end();
			if (this.maxRunning !== undefined) shell.kill("SIGTERM");
		}
	}
}
