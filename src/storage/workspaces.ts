import { chmod, mkdir, rm } from "node:fs/promises";
import { join, resolve } from "node:path";
import { AppError } from "../common/index.js";
import { internalDir, isInside } from "./workspace-path.js";

/** Where workspaces live and how they are laid out. */
export interface WorkspacesConfig {
	/** ORRERY_WORKSPACE_ROOT: on a shared filesystem (Lustre, NFS, CephFS) when jobs run on other nodes. */
	root: string;
}

/**
 * The workspace root: `<root>/users/<user id>/workflows/<workflow id>/`. Each user folder is 0700
 * so one user's workspaces are not readable by another local account.
 */
export class Workspaces {
	readonly root: string;

	constructor(config: WorkspacesConfig) {
		this.root = resolve(config.root);
	}

	/** The path a workflow's workspace has (or will have). */
	pathFor(ownerId: string, workflowId: string): string {
		return join(this.root, "users", safeSegment(ownerId), "workflows", safeSegment(workflowId));
	}

	/** Creates an empty workspace and returns its path. */
	async create(ownerId: string, workflowId: string): Promise<string> {
		const userDir = join(this.root, "users", safeSegment(ownerId));
		await mkdir(userDir, { recursive: true, mode: 0o700 });
		await chmod(userDir, 0o700);
		const path = this.pathFor(ownerId, workflowId);
		await mkdir(join(path, internalDir, "jobs"), { recursive: true });
		return path;
	}

	/** Deletes a workspace and everything in it; refuses any path outside the root. */
	async remove(path: string): Promise<void> {
		const abs = resolve(path);
		if (!isInside(join(this.root, "users"), abs) || abs === join(this.root, "users")) {
			throw new AppError("internal", `refusing to delete ${abs}: it is not a workspace under ${this.root}`);
		}
		await rm(abs, { recursive: true, force: true });
	}
}

/**
 * The job folder of one job: `<workspace>/.orrery/jobs/<run id>/<seq>-<step>-<attempt>`. The run's id
 * keeps the folders of restarts (which share the workspace) apart.
 */
export function jobFolderPath(
	workspace: string,
	runId: string,
	seq: number,
	stepName: string,
	attempt: number,
): string {
	const step = stepName.replace(/[^A-Za-z0-9._-]+/g, "_").slice(0, 60) || "step";
	return join(workspace, internalDir, "jobs", safeSegment(runId), `${String(seq).padStart(5, "0")}-${step}-${attempt}`);
}

function safeSegment(id: string): string {
	if (!/^[A-Za-z0-9_-]+$/.test(id)) throw new AppError("internal", `invalid identifier for a path: ${id}`);
	return id;
}
