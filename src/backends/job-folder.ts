import { chmodSync, mkdirSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { chmod, mkdir, readdir, rm, stat, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { readRegularFile, readRegularFileSync } from "../common/index.js";
import { internalDir, isOnLocalDisk } from "../storage/index.js";

/**
 * The job-folder protocol shared by every backend. A job folder holds:
 *   run.sh       the wrapper: runs the user's command once, in the workdir; on the host the command
 *                (plus its environment) is a quoted string in the wrapper, run by `eval` in a subshell
 *   command.sh   the command as a file of its own, for a wrapper that starts it in a container (or
 *                when a backend asks for it): one file fewer per job otherwise, which is most of what
 *                a short job costs on a shared filesystem
 *   pid          the wrapper's process id (its mtime is the start time); created atomically (O_EXCL,
 *                through the shell's noclobber) by the first wrapper that starts, so it is also the
 *                lock: a second wrapper exits at once (an external mkdir would cost a process per job,
 *                a separate lock file one more file)
 *   holder       which copy of the job holds the lock, as its batch system names it (a Slurm job id,
 *                an HTCondor cluster.proc), when the starter announces it in ORRERY_BACKEND_JOB
 *   stdout, stderr
 *   exit-code    the command's exit status (its mtime is the end time)
 * A wrapper that finds the lock taken (a second copy of the job) changes nothing in the folder and
 * exits with `lockLostExitCode`, so that its batch system's record of it is never read as the job's result.
 * Because results live in files, a restarted server re-attaches to running jobs and reads the
 * results of jobs that ended while it was down.
 */
export const jobFiles = {
	command: "command.sh",
	wrapper: "run.sh",
	/** The lock file of wrappers before the pid file became the lock (still recognised in existing folders). */
	lock: "lock",
	pid: "pid",
	holder: "holder",
	stdout: "stdout",
	stderr: "stderr",
	exitCode: "exit-code",
	container: "container",
	secrets: "secrets",
	secretsEnv: "secrets.env",
} as const;

/**
 * The file operations of the protocol. Backends whose job folders sit on a shared filesystem use
 * the thread pool (a slow metadata server then never stalls the server's event loop); the local
 * backend does them inline where the workspace is on a local disk (`diskAwareFs`): for files of a few
 * bytes there the hop through the thread pool costs ten times the operation, and that hop is paid
 * twice for every job of a serial chain.
 */
export interface JobFolderFs {
	/**
	 * The start of a small state file (an exit code, a pid): a job may have replaced it by a link, a FIFO
	 * or a huge file, so only a regular file is read, without following a link or waiting, and at most
	 * 4 KiB of it; anything else rejects as a missing file does.
	 */
	readFile(path: string, encoding: "utf8"): Promise<string>;
	writeFile(path: string, data: string | Buffer, options: { mode: number; flag?: string }): Promise<void>;
	stat(path: string): Promise<{ mtime: Date }>;
	mkdir(path: string, options: { recursive: true; mode?: number }): Promise<unknown>;
	chmod(path: string, mode: number): Promise<void>;
	readdir(path: string): Promise<string[]>;
}

/** How much of a job's state file is read: an exit code or a pid needs a few bytes. */
const stateFileBytes = 4096;

function notARegularFile(path: string): NodeJS.ErrnoException {
	return Object.assign(new Error(`${path} is not a regular file`), { code: "ENOENT" });
}

/** Job-folder file operations through the thread pool (the default). */
export const threadPoolFs: JobFolderFs = {
	readFile: async (path) => {
		const read = await readRegularFile(path, stateFileBytes);
		if (!read) throw notARegularFile(path);
		return read.text;
	},
	writeFile,
	stat,
	mkdir,
	chmod,
	readdir,
};

/** Job-folder file operations done at once, for job folders on a local disk. */
export const inlineFs: JobFolderFs = {
	readFile: async (path) => {
		const read = readRegularFileSync(path, stateFileBytes);
		if (!read) throw notARegularFile(path);
		return read.text;
	},
	writeFile: async (path, data, options) => writeFileSync(path, data, options),
	stat: async (path) => statSync(path),
	mkdir: async (path, options) => mkdirSync(path, options),
	chmod: async (path, mode) => chmodSync(path, mode),
	readdir: async (path) => readdirSync(path),
};

/**
 * Job-folder operations done at once where the workspace is on a disk of this machine (`inlineFs`),
 * through the thread pool where it is not (`threadPoolFs`: a workspace root on Lustre or NFS, whose
 * metadata server may take milliseconds per call, which the server's event loop must not wait for).
 * Decided once per workspace, by the part of a path before `/.orrery/` (job folders), or else the
 * nearest folder of the path already decided or existing (a job's output folders), and kept.
 */
export function diskAwareFs(
	isLocal: (dir: string) => boolean = isOnLocalDisk,
	choices: { local: JobFolderFs; remote: JobFolderFs } = { local: inlineFs, remote: threadPoolFs },
): JobFolderFs {
	const known = new Map<string, JobFolderFs>();
	const decide = (dir: string): JobFolderFs => {
		const fs = isLocal(dir) ? choices.local : choices.remote;
		if (known.size >= 1000) known.clear();
		known.set(dir, fs);
		return fs;
	};
	const pick = (path: string): JobFolderFs => {
		const cut = path.indexOf(`/${internalDir}/`);
		if (cut > 0) return known.get(path.slice(0, cut)) ?? decide(path.slice(0, cut));
		for (let dir = path; ; dir = dirname(dir)) {
			const hit = known.get(dir);
			if (hit) return hit;
			if (dir === dirname(dir)) break;
		}
		for (let dir = path; ; dir = dirname(dir)) {
			if (statSync(dir, { throwIfNoEntry: false })?.isDirectory() || dir === dirname(dir)) return decide(dir);
		}
	};
	return {
		readFile: (path, encoding) => pick(path).readFile(path, encoding),
		writeFile: (path, data, options) => pick(path).writeFile(path, data, options),
		stat: (path) => pick(path).stat(path),
		mkdir: (path, options) => pick(path).mkdir(path, options),
		chmod: (path, mode) => pick(path).chmod(path, mode),
		readdir: (path) => pick(path).readdir(path),
	};
}

/**
 * The wrapper's argument from a launcher that listens on the wrapper's fd 3: the wrapper writes its
 * job folder there when it has recorded the exit code (other starters pass nothing, and nothing is
 * written to an fd 3 they may have given it). The command never sees that fd.
 */
export const notifyArgument = "notify";

/**
 * The exit status of a wrapper that found the job's lock taken: another copy runs (or ran) the job,
 * and only the job folder tells its result. Reserved: batch systems report it for such copies.
 */
export const lockLostExitCode = 97;

/** The variable a starter sets to name the copy of the job it runs (written to `holder` by the lock's winner). */
export const backendJobVariable = "ORRERY_BACKEND_JOB";

/** Where secret files appear inside containers, as on REANA. */
export const containerSecretsPath = "/etc/reana/secrets";

/** A user's secrets for one job: environment variables, and files by name. */
export interface JobSecretValues {
	env: Record<string, string>;
	files: Record<string, Buffer>;
}

/** Quotes a string for POSIX sh. */
export function shQuote(value: string): string {
	return `'${value.replace(/'/g, `'\\''`)}'`;
}

/** Options of the wrapper script. */
export interface WrapperOptions {
	workdir: string;
	/** The argv words that run command.sh: `sh` on the host, a container runtime's `run … sh` otherwise. */
	launch?: readonly string[];
	/** The command text, run in the wrapper itself instead of from command.sh (only without `launch`). */
	inlineCommand?: string;
}

/**
 * Writes run.sh (and command.sh when the command starts in a container, or `separateCommand` asks for
 * it) into a job folder. Returns false when the folder already had them: an earlier submission of
 * the same job got this far, so the caller must check whether its wrapper started before starting
 * another (which would find the lock and exit anyway), and rewrite them with `overwrite` if it did not
 * (a crash may have left one half-written). Never overwrite the scripts of a started job: sh reads its
 * script as it runs.
 */
export async function writeJobScripts(
	jobDir: string,
	command: string,
	env: Record<string, string>,
	options: WrapperOptions & {
		overwrite?: boolean;
		/** Secrets: variables go to a 0600 file the command sources, files to a 0700 folder (see `removeJobSecrets`). */
		secrets?: JobSecretValues;
		/** Where the command sees the secrets folder (inside a container: `containerSecretsPath`). */
		secretsPath?: string;
		/** Write command.sh even for a command that runs on the host (a backend that rewrites it later). */
		separateCommand?: boolean;
		/**
		 * The names of the variables the job inherits, as its starter announces them in
		 * `ORRERY_ENV_NAMES` (see `inheritedEnvironment`): with the names this script exports itself, they
		 * let a command clear its environment with builtins alone (the CWL engine's clean environment).
		 */
		inheritedEnv?: string;
	},
	fs: JobFolderFs = threadPoolFs,
): Promise<boolean> {
	const flag = options.overwrite ? "w" : "wx";
	const exported = Object.keys(env).filter((k) => isEnvName(k));
	const exports = exported.map((k) => `export ${k}=${shQuote(env[k] as string)}\n`).join("");
	let prologue = "";
	if (options.secrets) {
		await writeJobSecrets(jobDir, options.secrets, fs);
		const seen = options.secretsPath ?? join(jobDir, jobFiles.secrets);
		prologue = `export ORRERY_SECRETS_DIR=${shQuote(seen)} REANA_SECRETS_DIR=${shQuote(seen)}\n. ${shQuote(join(jobDir, jobFiles.secretsEnv))}\n`;
		exported.push("ORRERY_SECRETS_DIR", "REANA_SECRETS_DIR", ...Object.keys(options.secrets.env).filter(isEnvName));
	}
	// Shell variables (not exported): what the command inherits, as announced, and what this script adds.
	const names =
		options.inheritedEnv !== undefined
			? `orrery_inherited=${shQuote(options.inheritedEnv)} orrery_exported=${shQuote(exported.join(" "))}\n`
			: "";
	const text = `${names}${prologue}${exports}${command}\n`;
	try {
		if (options.launch || options.separateCommand) {
			await Promise.all([
				fs.writeFile(join(jobDir, jobFiles.command), text, { mode: 0o644, flag }),
				fs.writeFile(join(jobDir, jobFiles.wrapper), wrapperScript(jobDir, options), { mode: 0o755, flag }),
			]);
		} else {
			const wrapper = wrapperScript(jobDir, { workdir: options.workdir, inlineCommand: text });
			await fs.writeFile(join(jobDir, jobFiles.wrapper), wrapper, { mode: 0o755, flag });
		}
		return true;
	} catch (error) {
		if ((error as NodeJS.ErrnoException).code === "EEXIST") return false;
		throw error;
	}
}

/** A name a POSIX shell can export and unset. */
function isEnvName(name: string): boolean {
	return /^[A-Za-z_][A-Za-z0-9_]*$/.test(name);
}

/**
 * What ORRERY_JOB_ENV_DROP holds when unset: names that commonly carry credentials. `*` matches any
 * run of characters; names are compared without regard to case.
 */
export const defaultJobEnvDrop =
	"*SECRET* *PASSWORD* *PASSWD* *TOKEN* *CREDENTIAL* *_KEY *_KEY_ID AWS_* PGPASSFILE SSH_AUTH_SOCK KUBECONFIG";

/**
 * The server's environment as its jobs inherit it (on the host, and through `sbatch`): without
 * Orrery's own settings (every `ORRERY_*` name: the database URL, the secrets' key, the OIDC client
 * secret…), without the CLI's `REANA_ACCESS_TOKEN`, and without the names ORRERY_JOB_ENV_DROP lists
 * (space- or comma-separated patterns; default `defaultJobEnvDrop`; empty: none). A user's own
 * credentials reach a job from their secrets, never from the server.
 */
export function jobEnvironment(base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
	const patterns = (base.ORRERY_JOB_ENV_DROP ?? defaultJobEnvDrop)
		.split(/[\s,]+/)
		.filter((p) => p !== "")
		.map((p) => new RegExp(`^${p.replace(/[.+?^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*")}$`, "i"));
	const env: NodeJS.ProcessEnv = {};
	for (const [name, value] of Object.entries(base)) {
		if (name.startsWith("ORRERY_") || name === "REANA_ACCESS_TOKEN") continue;
		if (patterns.some((p) => p.test(name))) continue;
		env[name] = value;
	}
	return env;
}

/**
 * The environment a starter gives the jobs it starts (see `jobEnvironment`), announcing the names it holds in
 * `ORRERY_ENV_NAMES` (space-separated, PATH left out), so that a job can clear them with builtins
 * alone. Nothing is announced when a name could not be unset exactly (not an identifier, or one of
 * the `orrery_` names the clean-up itself uses): the job then lists its environment itself.
 */
export function inheritedEnvironment(base: NodeJS.ProcessEnv = process.env): {
	env: NodeJS.ProcessEnv;
	names: string | undefined;
} {
	const env = jobEnvironment(base);
	const keys = Object.keys(env).filter((k) => k !== "PATH");
	if (keys.some((k) => !isEnvName(k) || k.startsWith("orrery_"))) return { env, names: undefined };
	const names = keys.sort().join(" ");
	return { env: { ...env, ORRERY_ENV_NAMES: names }, names };
}

async function writeJobSecrets(jobDir: string, secrets: JobSecretValues, fs: JobFolderFs): Promise<void> {
	const dir = join(jobDir, jobFiles.secrets);
	await fs.mkdir(dir, { recursive: true, mode: 0o700 });
	await fs.chmod(dir, 0o700);
	for (const [name, content] of Object.entries(secrets.files)) {
		if (!/^[A-Za-z0-9._-]+$/.test(name) || name === "." || name === "..") continue;
		await fs.writeFile(join(dir, name), content, { mode: 0o400 });
	}
	const env = Object.entries(secrets.env)
		.filter(([k]) => /^[A-Za-z_][A-Za-z0-9_]*$/.test(k))
		.map(([k, v]) => `export ${k}=${shQuote(v)}\n`)
		.join("");
	await fs.writeFile(join(jobDir, jobFiles.secretsEnv), env, { mode: 0o600 });
}

/** Removes a job's secrets from its folder once the job has ended (they never outlive the job on disk). */
export async function removeJobSecrets(jobDir: string): Promise<void> {
	await rm(join(jobDir, jobFiles.secrets), { recursive: true, force: true });
	await rm(join(jobDir, jobFiles.secretsEnv), { force: true });
}

/** The wrapper script text. Kept to shell builtins where possible: each fork costs time on short jobs. */
export function wrapperScript(jobDir: string, options: WrapperOptions): string {
	const d = shQuote(jobDir);
	const command = shQuote(join(jobDir, jobFiles.command));
	// On the host the command runs in a subshell of the wrapper (a fork, no second exec of sh); `eval`
	// parses it only there, so a syntax error in it fails the job, not the wrapper.
	const run = options.launch
		? `${options.launch.map(shQuote).join(" ")} ${command}`
		: options.inlineCommand !== undefined
			? `( eval "$orrery_command" )`
			: `( . ${command} )`;
	const streams = `> ${d}/stdout 2> ${d}/stderr < /dev/null`;
	const notify = `[ "\${1-}" = ${notifyArgument} ]`;
	const body = `if ${notify}; then ${run} 3>&- ${streams}; else ${run} ${streams}; fi\ncode=$?`;
	const reportEnd = `${notify} && { printf '%s\\n' ${d} >&3; } 2>/dev/null`;
	const what = options.launch || options.inlineCommand === undefined ? "command.sh" : "its command";
	const assignment =
		options.launch || options.inlineCommand === undefined ? "" : `orrery_command=${shQuote(options.inlineCommand)}\n`;
	return `#!/bin/sh
# Orrery job wrapper: runs ${what} exactly once and records the outcome in this folder.
${assignment}set -C; { echo $$ > ${d}/pid; } 2>/dev/null || exit ${lockLostExitCode}; set +C
[ -z "\${${backendJobVariable}-}" ] || { echo "$${backendJobVariable}" > ${d}/${jobFiles.holder}; unset ${backendJobVariable}; }
cd ${shQuote(options.workdir)} || { echo "orrery: cannot enter ${options.workdir.replace(/'/g, "")}" > ${d}/stderr; echo 126 > ${d}/exit-code; ${reportEnd}; exit 126; }
${body}
echo $code > ${d}/exit-code
${reportEnd}
exit $code
`;
}

/** True when a job folder shows that a wrapper has started (one directory read, for the submit path). */
export async function hasJobStarted(jobDir: string, fs: JobFolderFs = threadPoolFs): Promise<boolean> {
	const names = await fs.readdir(jobDir).catch(() => [] as string[]);
	return names.includes(jobFiles.lock) || names.includes(jobFiles.pid) || names.includes(jobFiles.exitCode);
}

/** The copy of a job that holds its lock, as its batch system names it, if the winner recorded one. */
export async function readLockHolder(jobDir: string, fs: JobFolderFs = threadPoolFs): Promise<string | undefined> {
	const text = await fs.readFile(join(jobDir, jobFiles.holder), "utf8").catch(() => "");
	return text.trim() || undefined;
}

/**
 * The jobs that ended (by their batch system's word) while their folder names another copy as the
 * holder of the wrapper's lock (a name matching `holderName`): second submissions of one job, which
 * ran nothing. Their holders are to be watched instead.
 */
export async function lockLosers(
	jobs: ReadonlyArray<{ ref: string; id: string; jobDir: string }>,
	seen: ReadonlyMap<string, { state: string }>,
	holderName: RegExp,
): Promise<Array<{ ref: string; jobDir: string; holder: string }>> {
	const losers: Array<{ ref: string; jobDir: string; holder: string }> = [];
	await Promise.all(
		jobs.map(async (j) => {
			const obs = seen.get(j.ref);
			if (!obs || obs.state === "queued" || obs.state === "running") return;
			const holder = await readLockHolder(j.jobDir);
			if (holder && holder !== j.id && holderName.test(holder)) losers.push({ ref: j.ref, jobDir: j.jobDir, holder });
		}),
	);
	return losers;
}

/** What a job folder says about its job. */
export interface JobFolderState {
	hasStarted: boolean;
	pid?: number;
	startedAt?: Date;
	exitCode?: number;
	finishedAt?: Date;
}

/** Reads the state files of a job folder (the exit code first: for an ended job nothing else is needed but times). */
export async function readJobFolder(jobDir: string, fs: JobFolderFs = threadPoolFs): Promise<JobFolderState> {
	const [exit, pidStat] = await Promise.all([
		readWithTime(join(jobDir, jobFiles.exitCode), fs),
		fs.stat(join(jobDir, jobFiles.pid)).catch(() => undefined),
	]);
	const code = exit?.text.trim();
	if (code && /^\d+$/.test(code)) {
		// An ended job: its pid no longer matters, only when it started (the pid file's time).
		const ended: JobFolderState = { hasStarted: true, exitCode: Number(code), finishedAt: exit?.mtime as Date };
		if (pidStat) ended.startedAt = pidStat.mtime;
		return ended;
	}
	const pid = pidStat ? await readWithTime(join(jobDir, jobFiles.pid), fs) : undefined;
	const state: JobFolderState = { hasStarted: pid !== undefined };
	if (pid?.text.trim()) {
		state.pid = Number(pid.text.trim());
		state.startedAt = pid.mtime;
	}
	if (!state.hasStarted)
		state.hasStarted = await fs.stat(join(jobDir, jobFiles.lock)).then(
			() => true,
			() => false,
		);
	return state;
}

async function readWithTime(path: string, fs: JobFolderFs): Promise<{ text: string; mtime: Date } | undefined> {
	try {
		const [text, s] = await Promise.all([fs.readFile(path, "utf8"), fs.stat(path)]);
		return { text, mtime: s.mtime };
	} catch {
		return undefined;
	}
}

/** The last `lines` lines of a job's stdout and stderr, for status messages. */
export async function tailJobLog(jobDir: string, lines = 10, maxBytes = 64 * 1024): Promise<string> {
	const parts: string[] = [];
	for (const f of [jobFiles.stdout, jobFiles.stderr]) {
		const text = await readTail(join(jobDir, f), maxBytes);
		if (text.trim()) parts.push(text.trimEnd());
	}
	return parts.join("\n").split("\n").slice(-lines).join("\n");
}

/** Reads at most the last `maxBytes` of a file ("" when it does not exist). */
export async function readTail(path: string, maxBytes: number): Promise<string> {
	// A job may have replaced its log by a link to a file of the server's, or by a FIFO: only a regular file is read.
	return (await readRegularFile(path, maxBytes, true))?.text ?? "";
}
