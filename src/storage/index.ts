export {
	type DownloadSource,
	deleteFiles,
	diskUsage,
	isGlob,
	listFiles,
	moveFile,
	pruneWorkspace,
	readStream,
	resolveDownload,
	type WorkspaceEntry,
	walkFiles,
	writeFileFromStream,
	zipStream,
} from "./workspace-files.js";
export { internalDir, isInside, normaliseUserPath, resolveInWorkspace, UnsafePathError } from "./workspace-path.js";
export { type PathInfo, type WorkspaceFiles, workspaceFiles } from "./workspace-reader.js";
export { jobFolderPath, Workspaces, type WorkspacesConfig } from "./workspaces.js";
