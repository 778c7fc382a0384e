import { chmod, lstat, mkdir, rm } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";
import { AppError } from "../common/index.js";
import { checkWorkspaceRootTemplate } from "../config/index.js";
import {
	claimUserFolder,
	expandRootTemplate,
	isIdSegment,
	isRealDirectory,
	markedOwnerOf,
	type WorkspaceOwner,
} from "./user-folders.js";
import { internalDir } from "./workspace-path.js";

/** Where workspaces live and how they are laid out. */
export interface WorkspacesConfig {
	/** ORRERY_WORKSPACE_ROOT: on a shared filesystem (Lustre, NFS, CephFS) when jobs run on other nodes. */
	root: string;
	/** ORRERY_WORKSPACE_ROOT_TEMPLATE: one folder per user (`/lustre/projects/{user}/orrery`) instead of `<root>/users/<id>`. */
	rootTemplate?: string | undefined;
}

/**
 * Where workspaces are: `<root>/users/<user id>/workflows/<workflow id>/` by default, or
 * `<template with {user} or {id} filled in>/workflows/<workflow id>/` with a root template. Each user
 * folder (or its `workflows/` folder, when the site made the user folder) is 0700, so one user's
 * workspaces are not readable by another local account.
 */
export class Workspaces {
	readonly root: string;
	readonly rootTemplate: string | undefined;

	constructor(config: WorkspacesConfig) {
		this.root = resolve(config.root);
		this.rootTemplate = config.rootTemplate ? checkWorkspaceRootTemplate(config.rootTemplate) : undefined;
	}

	/** The folder that holds one user's workspaces (in its `workflows/` folder). */
	userFolder(owner: WorkspaceOwner): string {
		if (this.rootTemplate) return expandRootTemplate(this.rootTemplate, owner);
		return join(this.root, "users", safeSegment(owner.id));
	}

	/** The path a workflow's workspace has (or will have); refuses owners the template cannot name. */
	pathFor(owner: WorkspaceOwner, workflowId: string): string {
		return join(this.userFolder(owner), "workflows", safeSegment(workflowId));
	}

	/** Creates an empty workspace and returns its path. */
	async create(owner: WorkspaceOwner, workflowId: string): Promise<string> {
		const userDir = this.userFolder(owner);
		if (this.rootTemplate) await claimUserFolder(userDir, owner.id);
		else {
			await mkdir(userDir, { recursive: true, mode: 0o700 });
			await chmod(userDir, 0o700);
		}
		const path = this.pathFor(owner, workflowId);
		await mkdir(join(path, internalDir, "jobs"), { recursive: true });
		return path;
	}

	/**
	 * True when a path is a workspace Orrery made: `<root>/users/<id>/workflows/<id>`, or
	 * `<folder>/workflows/<id>` in a user folder Orrery marked (whatever the template was when it was
	 * made), with no symbolic link among the folders Orrery made.
	 */
	async owns(path: string): Promise<boolean> {
		const abs = resolve(path);
		const workflows = dirname(abs);
		const folder = dirname(workflows);
		if (!isIdSegment(basename(abs)) || basename(workflows) !== "workflows") return false;
		if (dirname(folder) === join(this.root, "users") && isIdSegment(basename(folder))) return true;
		if ((await markedOwnerOf(folder)) === undefined || !(await isRealDirectory(workflows))) return false;
		// A workspace already gone is still ours (deleting it does nothing); a link in its place is not.
		const s = await lstat(abs).catch(() => undefined);
		return s === undefined || s.isDirectory();
	}

	/** Deletes a workspace and everything in it; refuses any path that is not a workspace Orrery made. */
	async remove(path: string): Promise<void> {
		const abs = resolve(path);
		if (!(await this.owns(abs))) {
			throw new AppError(
				"internal",
				`refusing to delete ${abs}: it is not a workspace under ${join(this.root, "users")} or in a user folder Orrery made`,
			);
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
	if (!isIdSegment(id)) throw new AppError("internal", `invalid identifier for a path: ${id}`);
	return id;
}
