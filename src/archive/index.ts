/** `liesWithin` moved to common/ with the opening it serves; kept here for the callers of archive/. */
export { liesWithin } from "../common/index.js";
export { fileErrorOf } from "./file-errors.js";
export { type CheckedFolder, createFileIn, openFileWithin } from "./open-within.js";
export { type StagedFolders, stagedFolders } from "./staged-folders.js";
export { type ArchiveFile, tarStream } from "./tar-pack.js";
export { type UnpackFolder, type UnpackOptions, unpackTar } from "./tar-unpack.js";
export { forgetSweptFolders, isUploadLeftover, leftoverAgeMs, sweepUploadLeftovers } from "./upload-leftovers.js";
