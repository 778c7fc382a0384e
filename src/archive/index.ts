export { type ArchiveFile, tarStream } from "./tar-pack.js";
export { type UnpackOptions, unpackTar } from "./tar-unpack.js";
