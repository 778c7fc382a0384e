/** Every error code the system can answer with; closed so clients can switch on it. */
export const errorCodes = [
	"validation_failed",
	"unauthenticated",
	"forbidden",
	"not_found",
	"conflict",
	"not_implemented",
	"backend_unavailable",
	"internal",
	"rate_limited",
	"range_not_satisfiable",
] as const;

/** A stable, machine-readable error code. */
export type ErrorCode = (typeof errorCodes)[number];

/** How each code surfaces: the HTTP status and the CLI exit code (sysexits.h where one fits). */
export const errorTable: Record<ErrorCode, { status: number; exitCode: number }> = {
	validation_failed: { status: 400, exitCode: 65 },
	unauthenticated: { status: 401, exitCode: 77 },
	forbidden: { status: 403, exitCode: 77 },
	not_found: { status: 404, exitCode: 66 },
	conflict: { status: 409, exitCode: 1 },
	not_implemented: { status: 501, exitCode: 69 },
	backend_unavailable: { status: 503, exitCode: 69 },
	internal: { status: 500, exitCode: 70 },
	/** Too many failed authentications from one address or with one token: wait (Retry-After) and try again. */
	rate_limited: { status: 429, exitCode: 75 },
	/** A download's byte range lies outside the file. */
	range_not_satisfiable: { status: 416, exitCode: 65 },
};

/** The CLI's exit code for a usage error (bad flags, missing arguments). */
export const usageExitCode = 64;

/** Finds the code for an HTTP status, for clients that only see the status. */
export function codeForStatus(status: number): ErrorCode {
	for (const code of errorCodes) if (errorTable[code].status === status) return code;
	return status >= 500 ? "internal" : "validation_failed";
}
