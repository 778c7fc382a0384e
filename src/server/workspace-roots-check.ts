import type { ComputeBackend } from "../backends/index.js";
import { AppError } from "../common/index.js";
import type { ServerConfig } from "../config/index.js";
import { isInside } from "../storage/index.js";

/** The folder every workspace made from now on lies below: the template's part before its first placeholder. */
function newWorkspacesRoot(config: Pick<ServerConfig, "workspaceRoot" | "workspaceRootTemplate">): {
	path: string;
	setting: string;
} {
	const template = config.workspaceRootTemplate;
	if (template === undefined)
		return { path: config.workspaceRoot, setting: `ORRERY_WORKSPACE_ROOT=${config.workspaceRoot}` };
	const fixed = template.split("/").filter((s) => s !== "");
	const first = fixed.findIndex((s) => s.includes("{"));
	return {
		path: `/${fixed.slice(0, first < 0 ? fixed.length : first).join("/")}`,
		setting: `ORRERY_WORKSPACE_ROOT_TEMPLATE=${template}`,
	};
}

/**
 * Checks at start that every backend whose jobs see the workspaces only below one path (Kubernetes:
 * `workspaceMountPath`) can see the workspaces this server will make; otherwise every job of such a
 * backend would fail at submission. Returns warnings for workspaces made before a template was set.
 */
export function checkWorkspaceRoots(
	config: Pick<ServerConfig, "workspaceRoot" | "workspaceRootTemplate">,
	backends: ReadonlyMap<string, Pick<ComputeBackend, "capabilities">>,
): string[] {
	const { path, setting } = newWorkspacesRoot(config);
	const warnings: string[] = [];
	for (const [name, backend] of backends) {
		const root = backend.capabilities.jobFolderRoot;
		if (root === undefined) continue;
		if (!isInside(root, path)) {
			throw new AppError(
				"validation_failed",
				`compute backend '${name}' sees workspaces only below ${root}, but ${setting} puts them ${config.workspaceRootTemplate ? "below " : "in "}${path}; mount its volume at a folder that holds them (workspaceMountPath), or move the workspaces below ${root}`,
			);
		}
		if (config.workspaceRootTemplate !== undefined && !isInside(root, config.workspaceRoot))
			warnings.push(
				`compute backend '${name}' sees workspaces only below ${root}: runs made in ORRERY_WORKSPACE_ROOT=${config.workspaceRoot} before the template was set cannot run jobs there`,
			);
	}
	return warnings;
}
