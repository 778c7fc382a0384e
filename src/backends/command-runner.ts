import { spawn } from "node:child_process";
import { access, constants } from "node:fs/promises";
import { delimiter, join } from "node:path";
import { AppError } from "../common/index.js";
import { jobEnvironment, shQuote } from "./job-folder.js";

/** How to reach a cluster's login node over SSH (key-based, never a password prompt). */
export interface SshTarget {
	host: string;
	user?: string;
	port?: number;
	identityFile?: string;
	/** Extra `-o` options, e.g. `StrictHostKeyChecking=accept-new`. */
	options?: string[];
}

/** Settings of a command runner. */
export interface CommandRunnerConfig {
	/** Run commands on this host over SSH instead of on the server. */
	ssh?: SshTarget;
	timeoutMs?: number;
	/** Environment for the commands (added to the server's). */
	env?: Record<string, string>;
}

/** What one command printed and how it exited. */
export interface CommandResult {
	stdout: string;
	stderr: string;
	exitCode: number;
}

/**
 * Runs a scheduler's command-line tools (sbatch, condor_q, …) on the server or, over SSH, on a
 * login node. It counts every command so benchmarks and metrics can show the load on the scheduler.
 */
export class CommandRunner {
	/** Commands started so far (SSH counts as one command). */
	commandsIssued = 0;

	constructor(private readonly config: CommandRunnerConfig = {}) {}

	/** The argv actually executed for a command: itself, or `ssh … -- 'quoted command'`. */
	argv(command: readonly string[]): string[] {
		const { ssh } = this.config;
		if (!ssh) return [...command];
		return [...sshPrefix(ssh), command.map(shQuote).join(" ")];
	}

	/** Runs a command and returns its output; only failing to start it (or a timeout) throws. */
	run(
		command: readonly string[],
		options: {
			input?: string;
			signal?: AbortSignal;
			/** The command passes its environment on to the jobs it starts (sbatch): it gets the jobs' (`jobEnvironment`). */
			startsJobs?: boolean;
		} = {},
	): Promise<CommandResult> {
		const [bin, ...args] = this.argv(command);
		this.commandsIssued++;
		const timeoutMs = this.config.timeoutMs ?? 60_000;
		return new Promise((resolve, reject) => {
			const child = spawn(bin as string, args, {
				env: { ...(options.startsJobs ? jobEnvironment(process.env) : process.env), ...this.config.env },
				stdio: ["pipe", "pipe", "pipe"],
				...(options.signal ? { signal: options.signal } : {}),
			});
			const out: Buffer[] = [];
			const err: Buffer[] = [];
			const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
			child.stdout.on("data", (d: Buffer) => out.push(d));
			child.stderr.on("data", (d: Buffer) => err.push(d));
			child.on("error", (error: NodeJS.ErrnoException) => {
				clearTimeout(timer);
				if (error.name === "AbortError") return reject(options.signal?.reason ?? error);
				const what = error.code === "ENOENT" ? `${bin} is not installed or not on PATH` : error.message;
				reject(new AppError("backend_unavailable", `cannot run ${command[0]}: ${what}`, { cause: error }));
			});
			child.on("close", (code, signal) => {
				clearTimeout(timer);
				const stderr = Buffer.concat(err).toString("utf8");
				if (code === null) {
					const why = signal === "SIGKILL" ? `timed out after ${timeoutMs / 1000}s` : `killed by ${signal}`;
					return reject(new AppError("backend_unavailable", `${command[0]} ${why}`));
				}
				// ssh itself fails with 255: the login node is unreachable, not the command.
				if (this.config.ssh && code === 255) {
					return reject(
						new AppError("backend_unavailable", `ssh to ${this.config.ssh.host} failed: ${lastLine(stderr)}`),
					);
				}
				resolve({ stdout: Buffer.concat(out).toString("utf8"), stderr, exitCode: code });
			});
			child.stdin.on("error", () => undefined); // a command that exits without reading its input
			child.stdin.end(options.input ?? "");
		});
	}
}

/** The ssh argv (without the remote command) for a target; BatchMode never waits for a password. */
export function sshPrefix(ssh: SshTarget): string[] {
	const args = ["ssh", "-o", "BatchMode=yes"];
	if (ssh.port !== undefined) args.push("-p", String(ssh.port));
	if (ssh.identityFile) args.push("-i", ssh.identityFile);
	for (const o of ssh.options ?? []) args.push("-o", o);
	args.push(ssh.user ? `${ssh.user}@${ssh.host}` : ssh.host, "--");
	return args;
}

/** The last non-empty line of a tool's output, for error messages. */
export function lastLine(text: string): string {
	const lines = text.trim().split("\n");
	return (lines[lines.length - 1] ?? "").trim().slice(0, 500);
}

/** Whether an executable is on the server's PATH (to fail fast when a scheduler's tools are missing). */
export async function isOnPath(name: string): Promise<boolean> {
	for (const dir of (process.env.PATH ?? "").split(delimiter)) {
		if (!dir) continue;
		try {
			await access(join(dir, name), constants.X_OK);
			return true;
		} catch {
			// not in this directory
		}
	}
	return false;
}
