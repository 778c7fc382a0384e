/** The structured logger type (pino); the server creates the instance. */
export type { Logger } from "pino";
export { AppError, type AppErrorOptions, isAppError, messageOf } from "./app-error.js";
export { type Clock, isoNow, systemClock } from "./clock.js";
export {
	type GlobOptions,
	GlobTooLargeError,
	globPathMatcher,
	globSegmentMatcher,
	MAX_BRACE_ALTERNATIVES,
} from "./glob-match.js";
export { isUuid, newId } from "./ids.js";
export {
	liesWithin,
	openRegularFile,
	openUntrustedFile,
	openUntrustedFileSync,
	type RegularFileText,
	readRegularFile,
	readRegularFileSync,
	realPathOfSync,
	type UntrustedFile,
	type UntrustedFileOptions,
	type UntrustedFileRefusal,
} from "./regular-file.js";
