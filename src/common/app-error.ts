import type { ErrorCode } from "../contract/errors.js";

/** Construction options of an AppError. */
export interface AppErrorOptions {
	cause?: unknown;
	details?: unknown;
	retryable?: boolean;
}

/** The one error type of the system: a stable code, a message a user can act on, optional details. */
export class AppError extends Error {
	readonly code: ErrorCode;
	readonly details: unknown;
	readonly retryable: boolean;

	constructor(code: ErrorCode, message: string, options: AppErrorOptions = {}) {
		super(message, options.cause === undefined ? undefined : { cause: options.cause });
		this.name = "AppError";
		this.code = code;
		this.details = options.details;
		this.retryable = options.retryable ?? code === "backend_unavailable";
	}
}

/** True when the value is an AppError (also across module copies). */
export function isAppError(value: unknown): value is AppError {
	return value instanceof AppError || (value instanceof Error && value.name === "AppError" && "code" in value);
}

/** The message of any caught value, for logs. */
export function messageOf(value: unknown): string {
	if (value instanceof Error) return value.message;
	return String(value);
}
