import { AppError, isAppError } from "../../common/index.js";

/** Runs `work` over items with at most `concurrency` at once; the first error stops new work and is thrown. */
export async function runPool<T>(
	items: readonly T[],
	concurrency: number,
	work: (item: T) => Promise<void>,
	signal: AbortSignal,
): Promise<void> {
	let next = 0;
	let failure: unknown;
	const worker = async () => {
		while (failure === undefined && next < items.length) {
			signal.throwIfAborted();
			const item = items[next++] as T;
			try {
				await work(item);
			} catch (error) {
				failure ??= error;
			}
		}
	};
	await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
	if (failure !== undefined) throw failure;
}

/** Options of `withRetries`. */
export interface RetryOptions {
	retries: number;
	signal: AbortSignal;
	/** Told before each new attempt. */
	onRetry?: (attempt: number, error: unknown) => void;
	/** First delay; doubled each time, at most 15 s. */
	baseDelayMs?: number;
}

/** Repeats an operation that failed for a passing reason (network, 5xx, throttling), with backoff. */
export async function withRetries<T>(operation: () => Promise<T>, options: RetryOptions): Promise<T> {
	for (let attempt = 0; ; attempt++) {
		try {
			return await operation();
		} catch (error) {
			if (options.signal.aborted) throw options.signal.reason ?? error;
			if (!isPassing(error) || attempt >= options.retries) throw error;
			options.onRetry?.(attempt + 1, error);
			const delay = Math.min(15_000, (options.baseDelayMs ?? 500) * 2 ** attempt) * (0.75 + Math.random() / 2);
			await new Promise((done) => setTimeout(done, delay));
		}
	}
}

function isPassing(error: unknown): boolean {
	if (isAppError(error)) return error.retryable;
	const code = (error as NodeJS.ErrnoException)?.code;
	return ["ECONNRESET", "ETIMEDOUT", "EPIPE", "ECONNREFUSED", "EAI_AGAIN", "ERR_STREAM_PREMATURE_CLOSE"].includes(
		code ?? "",
	);
}

/** An error for a transfer that still fails after its retries. */
export function transferFailure(url: string, error: unknown): AppError {
	if (isAppError(error)) return error;
	return new AppError(
		"backend_unavailable",
		`transfer of ${url} failed: ${(error as Error)?.message ?? String(error)}`,
		{
			cause: error,
		},
	);
}
