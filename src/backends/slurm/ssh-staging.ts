import { join } from "node:path";
import { AppError } from "../../common/index.js";
import { type CommandRunner, lastLine, type SshTarget, sshPrefix } from "../command-runner.js";

/**
 * Staging for clusters that do not see the server's filesystem: each workspace is mirrored under
 * `remoteRoot` at the same absolute path (`/srv/ws/u/w` → `<remoteRoot>/srv/ws/u/w`), copied in with
 * rsync before a job is submitted and copied back when a job has ended. `--update` keeps the newer
 * side of each file, so concurrent jobs of one workflow do not overwrite each other's outputs.
 */
export class SshStaging {
	constructor(
		private readonly ssh: SshTarget,
		private readonly remoteRoot: string,
		private readonly runner: CommandRunner,
	) {}

	/** The cluster-side path of a server-side path. */
	remotePath(local: string): string {
		return join(this.remoteRoot, local);
	}

	/** rsync's remote shell: the same ssh options the commands use. */
	rshOption(): string {
		const prefix = sshPrefix(this.ssh).slice(0, -2); // without `user@host --`
		return `--rsh=${prefix.join(" ")}`;
	}

	private target(): string {
		return this.ssh.user ? `${this.ssh.user}@${this.ssh.host}` : this.ssh.host;
	}

	/** The commands that copy a workspace to the cluster (create the folder, then rsync). */
	stageInCommands(workspace: string): string[][] {
		const remote = this.remotePath(workspace);
		return [
			[...sshPrefix(this.ssh), `mkdir -p '${remote.replace(/'/g, "'\\''")}'`],
			["rsync", "-a", "--update", this.rshOption(), `${workspace}/`, `${this.target()}:${remote}/`],
		];
	}

	/** The command that copies a workspace (outputs and job folders) back from the cluster. */
	stageOutCommand(workspace: string): string[] {
		const remote = this.remotePath(workspace);
		return ["rsync", "-a", "--update", this.rshOption(), `${this.target()}:${remote}/`, `${workspace}/`];
	}

	/** Copies a workspace in. */
	async stageIn(workspace: string): Promise<void> {
		for (const argv of this.stageInCommands(workspace)) await this.runLocal(argv);
	}

	/** Copies a workspace back. */
	async stageOut(workspace: string): Promise<void> {
		await this.runLocal(this.stageOutCommand(workspace));
	}

	private async runLocal(argv: string[]): Promise<void> {
		// These run on the server itself (ssh and rsync are the transport), so a plain runner.
		const result = await this.runner.run(argv);
		if (result.exitCode !== 0) {
			throw new AppError("backend_unavailable", `staging with ${argv[0]} failed: ${lastLine(result.stderr)}`);
		}
	}
}

/** Maps workspace-relative facts of a job to the cluster side (paths inside scripts, env values). */
export function remapPaths<T extends Record<string, string>>(values: T, from: string, to: string): T {
	const out: Record<string, string> = {};
	for (const [k, v] of Object.entries(values)) out[k] = v.startsWith(from) ? to + v.slice(from.length) : v;
	return out as T;
}
