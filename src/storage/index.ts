export { type ExtractTarOptions, extractTar } from "./extract-tar.js";
export { type DigestOptions, digestWorkspaceFile, type WorkspaceFileDigest } from "./file-digest.js";
export { AddressGuard, isPrivateAddress, type PrivateNetworkAllowance } from "./staging/address-guard.js";
export {
	manifestName,
	outputFiles,
	type PublishFile,
	type PublishOptions,
	parseManifest,
	publishFiles,
} from "./staging/publish-outputs.js";
export type { RemoteBody, RemoteEntry, RemoteStore } from "./staging/remote-store.js";
export {
	isRemoteLocation,
	lastNameOf,
	parseRemoteUrl,
	type RemoteLocation,
	stagedFolder,
	stagedPathOf,
} from "./staging/remote-url.js";
export {
	ChecksumMismatchError,
	expandRemoteInput,
	type PlannedFile,
	type RemoteInputRequest,
	type StageFileOptions,
	sha256File,
	stageFile,
	sweepStagingLeftovers,
} from "./staging/stage-in.js";
export {
	bearerSecretName,
	type EndpointOptions,
	resolveS3Endpoint,
	type S3Credentials,
	type S3Endpoint,
	type StagingSecrets,
	s3CredentialsFor,
	s3SecretNames,
	secretId,
} from "./staging/staging-credentials.js";
export { StagingSession } from "./staging/staging-session.js";
export { runPool, transferFailure, withRetries } from "./staging/transfer-pool.js";
export { ownerMarkerName, type WorkspaceOwner } from "./user-folders.js";
export {
	type DownloadSource,
	deleteFiles,
	diskUsage,
	globMatcherOf,
	isGlob,
	listFiles,
	moveFile,
	pruneWorkspace,
	readStream,
	removeFolder,
	resolveDownload,
	type WorkspaceEntry,
	walkFiles,
	writeFileFromStream,
	zipStream,
} from "./workspace-files.js";
export { linkInWorkspace, type WorkspaceLinks } from "./workspace-links.js";
export {
	type AppliedChanges,
	applyChanges,
	changesBetween,
	copyJobFiles,
	FileDigests,
	type Manifest,
	type ManifestEntry,
	manifestDigest,
	type WorkspaceChanges,
	type WorkspaceFolder,
} from "./workspace-manifest.js";
export { internalDir, isInside, normaliseUserPath, resolveInWorkspace, UnsafePathError } from "./workspace-path.js";
export { isOnLocalDisk, type PathInfo, type WorkspaceFiles, workspaceFiles } from "./workspace-reader.js";
export { jobFolderPath, Workspaces, type WorkspacesConfig } from "./workspaces.js";
