import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { access, constants } from "node:fs/promises";
import { delimiter, join } from "node:path";
import { promisify } from "node:util";
import { messageOf } from "../../common/index.js";

const run = promisify(execFile);

/** Which container runtime the local backend uses: ORRERY_CONTAINER_RUNTIME. */
export const containerRuntimeSettings = ["auto", "none", "podman", "docker"] as const;
/** Which container runtime the local backend uses. */
export type ContainerRuntimeSetting = (typeof containerRuntimeSettings)[number];

/** A container runtime found on this machine. */
export interface ContainerRuntime {
	name: "podman" | "docker";
	bin: string;
}

/** Finds an executable on PATH. */
export async function which(name: string): Promise<string | undefined> {
	for (const dir of (process.env.PATH ?? "").split(delimiter)) {
		if (!dir) continue;
		const candidate = join(dir, name);
		try {
			await access(candidate, constants.X_OK);
			return candidate;
		} catch {
			// not in this directory
		}
	}
	return undefined;
}

/** Resolves the setting to a runtime: `auto` takes podman, then a docker whose engine answers. */
export async function detectContainerRuntime(setting: ContainerRuntimeSetting): Promise<ContainerRuntime | null> {
	if (setting === "none") return null;
	const candidates: Array<ContainerRuntime["name"]> = setting === "auto" ? ["podman", "docker"] : [setting];
	for (const name of candidates) {
		const bin = await which(name);
		if (!bin) continue;
		try {
			await run(bin, ["version", "--format", "{{.Server.Version}}"], { timeout: 10_000 });
			return { name, bin };
		} catch {
			// a client without an engine (docker here) cannot run containers
		}
	}
	return null;
}

/** The outcome of making sure an image is available locally. */
export type ImageCheck = { isAvailable: true } | { isAvailable: false; reason: string };

/** Caches which images are present, pulling once when one is not. */
export class ImageCache {
	private readonly known = new Map<string, Promise<ImageCheck>>();

	constructor(private readonly runtime: ContainerRuntime) {}

	/** Whether the image can be run, pulling it once if it is not present. */
	ensure(image: string): Promise<ImageCheck> {
		let check = this.known.get(image);
		if (!check) {
			check = this.check(image);
			this.known.set(image, check);
			// Forget failures after a minute: a registry may come back.
			void check.then((c) => {
				if (!c.isAvailable) setTimeout(() => this.known.delete(image), 60_000).unref();
			});
		}
		return check;
	}

	private async check(image: string): Promise<ImageCheck> {
		try {
			await run(this.runtime.bin, ["image", "inspect", "--format", "{{.Id}}", image], { timeout: 30_000 });
			return { isAvailable: true };
		} catch {
			// not present locally: try to pull
		}
		try {
			await run(this.runtime.bin, ["pull", "--quiet", image], { timeout: 600_000 });
			return { isAvailable: true };
		} catch (error) {
			const stderr = (error as { stderr?: string }).stderr ?? messageOf(error);
			const line = stderr.trim().split("\n").pop() ?? "";
			return {
				isAvailable: false,
				reason: `image ${image} is not present and could not be pulled: ${line.slice(0, 300)}`,
			};
		}
	}
}

/**
 * The name of the container a job runs in, made from its job folder (which the server chose) so that
 * a cancel finds it again without reading anything the job can write: the job folder is inside the
 * workspace, which the container mounts.
 */
export function containerNameOf(jobDir: string): string {
	return `orrery-${createHash("sha256").update(jobDir).digest("hex").slice(0, 32)}`;
}

/** The arguments a container was started with (after its entrypoint), or undefined when there is no such container. */
export async function containerArgs(runtime: ContainerRuntime, name: string): Promise<string[] | undefined> {
	try {
		const { stdout } = await run(runtime.bin, ["inspect", "--type", "container", "--format", "{{json .Args}}", name], {
			timeout: 30_000,
		});
		const args: unknown = JSON.parse(stdout);
		return Array.isArray(args) && args.every((a) => typeof a === "string") ? args : undefined;
	} catch {
		return undefined; // no such container (or the runtime does not answer: then it cannot be removed either)
	}
}

/** The argv that runs a job's command.sh in a container, with the workspace mounted at the same path. */
export function containerLaunch(
	runtime: ContainerRuntime,
	options: { name: string; image: string; workspace: string; workdir: string },
): string[] {
	const args = [
		runtime.bin,
		"run",
		"--rm",
		"--name",
		options.name,
		"--volume",
		`${options.workspace}:${options.workspace}`,
	];
	args.push("--workdir", options.workdir);
	const uid = process.getuid?.() ?? 0;
	if (runtime.name === "docker") args.push("--user", `${uid}:${process.getgid?.() ?? 0}`);
	else if (uid !== 0) args.push("--userns=keep-id");
	args.push("--entrypoint", "sh", options.image);
	return args;
}

/**
 * Kills and removes a job's container at once; a container that is already gone is not an error.
 * (The command is PID 1 in its container, which ignores SIGTERM unless it handles it, so a polite
 * stop would only wait out podman's 10 s grace period.)
 */
export async function removeContainer(runtime: ContainerRuntime, name: string): Promise<void> {
	const args = runtime.name === "podman" ? ["rm", "--force", "--time", "0", name] : ["rm", "--force", name];
	await run(runtime.bin, args, { timeout: 30_000 }).catch(() => undefined);
}
