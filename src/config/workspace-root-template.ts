import { AppError } from "../common/index.js";

/** The placeholders of ORRERY_WORKSPACE_ROOT_TEMPLATE: the local part of the user's email, and the user's id. */
export const workspaceRootPlaceholders = ["user", "id"] as const;

const variable = "ORRERY_WORKSPACE_ROOT_TEMPLATE";

/**
 * Checks ORRERY_WORKSPACE_ROOT_TEMPLATE (`/lustre/projects/{user}/orrery`) and returns it normalised
 * (no doubled or trailing slashes). It must be absolute, use at least one placeholder, know every
 * `{…}` it has, and have no `.` or `..` segments: the per-user folder is then always at the same depth.
 */
export function checkWorkspaceRootTemplate(template: string): string {
	const fail = (hint: string) =>
		new AppError("validation_failed", `${variable}=${template} is not valid: ${hint}`, {
			details: { variable, value: template },
		});
	if (!template.startsWith("/")) throw fail("use an absolute path, e.g. /lustre/projects/{user}/orrery");
	if (template.includes("\0")) throw fail("it contains a NUL byte");
	const known = new Set<string>(workspaceRootPlaceholders);
	let used = 0;
	for (const m of template.matchAll(/\{([^{}]*)\}/g)) {
		if (!known.has(m[1] as string)) throw fail(`unknown placeholder {${m[1]}}; use {user} or {id}`);
		used++;
	}
	if (template.replace(/\{(user|id)\}/g, "").match(/[{}]/))
		throw fail("a '{' or '}' that is not part of {user} or {id}");
	if (used === 0) throw fail("name the user with {user} or {id}, so that each user has their own folder");
	const segments = template.split("/").filter((s) => s !== "");
	if (segments.some((s) => s === "." || s === "..")) throw fail("'.' and '..' segments are not allowed");
	return `/${segments.join("/")}`;
}

/** Reads ORRERY_WORKSPACE_ROOT_TEMPLATE; undefined when it is not set (all workspaces under ORRERY_WORKSPACE_ROOT). */
export function readWorkspaceRootTemplate(env: Record<string, string | undefined>): string | undefined {
	const raw = env[variable]?.trim();
	return raw ? checkWorkspaceRootTemplate(raw) : undefined;
}
