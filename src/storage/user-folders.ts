import { chmod, lstat, mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { AppError } from "../common/index.js";

/** Who a workspace belongs to: the root template names users by the local part of their email or by id. */
export interface WorkspaceOwner {
	id: string;
	email: string;
}

/**
 * The file in a user folder made from ORRERY_WORKSPACE_ROOT_TEMPLATE that names the user it belongs
 * to: two accounts the template maps to one folder cannot share it, and only marked folders hold
 * workspaces Orrery will delete.
 */
export const ownerMarkerName = ".orrery-owner";

const idPattern = /^[A-Za-z0-9_-]+$/;
// A folder name from user data: no slashes, no `..`, not hidden, not an option-like name.
const userPattern = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,63}$/;

/** True when a value may be one segment of a workspace path (ids are UUIDs). */
export function isIdSegment(value: string): boolean {
	return idPattern.test(value);
}

/**
 * The user folder the template names for an owner: `{user}` is the local part of the email, `{id}`
 * the user id. A value that could not be one plain folder name is refused, never rewritten, so two
 * users can never be mapped to one folder by the rewriting.
 */
export function expandRootTemplate(template: string, owner: WorkspaceOwner): string {
	if (!isIdSegment(owner.id)) throw new AppError("internal", `invalid identifier for a path: ${owner.id}`);
	const at = owner.email.lastIndexOf("@");
	const local = at > 0 ? owner.email.slice(0, at) : owner.email;
	if (template.includes("{user}") && (!userPattern.test(local) || local.includes(".."))) {
		throw new AppError(
			"validation_failed",
			`workspaces on this server are named after the part of your email before '@', and '${local.slice(0, 80)}' cannot be a folder name (allowed: letters, digits, '.', '_' and '-', at most 64, not starting with '.' or '-', no '..'); ask your administrator`,
			{ details: { email: owner.email } },
		);
	}
	return template.replace(/\{(user|id)\}/g, (_, name: string) => (name === "user" ? local : owner.id));
}

/**
 * Makes a template user folder ready for workspaces: creates it (0700) if missing, marks it as the
 * owner's (refusing one marked for someone else) and creates its `workflows/` folder (0700). A folder
 * that already existed (a site's project folder) keeps its mode. Orrery's folders must not be
 * symbolic links: a user who can write the folder above could otherwise point them elsewhere.
 */
export async function claimUserFolder(folder: string, ownerId: string): Promise<string> {
	const found = await lstat(folder).catch(() => undefined);
	if (!found) {
		await mkdir(folder, { recursive: true, mode: 0o700 });
		await chmod(folder, 0o700);
	} else await requireRealDirectory(folder);
	const marker = join(folder, ownerMarkerName);
	try {
		await writeFile(marker, `${ownerId}\n`, { flag: "wx", mode: 0o600 });
	} catch (error) {
		if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
		const markedFor = (await readFile(marker, "utf8").catch(() => "")).trim();
		if (markedFor !== ownerId) {
			throw new AppError(
				"conflict",
				`your workspace folder ${folder} belongs to another user (ORRERY_WORKSPACE_ROOT_TEMPLATE gives two accounts the same folder); ask your administrator`,
			);
		}
	}
	const workflows = join(folder, "workflows");
	await mkdir(workflows, { mode: 0o700 }).catch((error: unknown) => {
		if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
	});
	await requireRealDirectory(workflows);
	await chmod(workflows, 0o700);
	return workflows;
}

/** The owner a template user folder is marked for, or undefined when Orrery did not mark it. */
export async function markedOwnerOf(folder: string): Promise<string | undefined> {
	if (!(await isRealDirectory(folder))) return undefined;
	const text = await readFile(join(folder, ownerMarkerName), "utf8").catch(() => undefined);
	const id = text?.trim();
	return id && isIdSegment(id) ? id : undefined;
}

/** True when a path is a directory itself, not a symbolic link to one. */
export async function isRealDirectory(path: string): Promise<boolean> {
	// lstat does not follow a link: a symbolic link to a directory is not a directory here.
	return (await lstat(path).catch(() => undefined))?.isDirectory() === true;
}

async function requireRealDirectory(path: string): Promise<void> {
	if (await isRealDirectory(path)) return;
	throw new AppError(
		"internal",
		`the workspace folder ${path} is not a plain directory (a file or a symbolic link); an administrator must replace it with a directory (or point ORRERY_WORKSPACE_ROOT_TEMPLATE at the real path)`,
	);
}
