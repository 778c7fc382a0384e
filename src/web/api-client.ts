import type { Static, TSchema } from "typebox";
import { endpoints, type OperationId, type routes } from "../contract/index.js";

type StaticOf<T> = T extends TSchema ? Static<T> : undefined;
type Part<K extends OperationId, P extends string> = (typeof routes)[K] extends { [key in P]: infer S }
	? StaticOf<S>
	: undefined;

type Loose<T> = { [P in keyof T]?: T[P] | undefined };

/** The inputs of one API call, typed from the contract. */
export interface CallInput<K extends OperationId> {
	params?: Part<K, "params">;
	/** Query parameters; undefined ones are left out. */
	query?: Loose<Part<K, "querystring">>;
	body?: Part<K, "body">;
	signal?: AbortSignal;
}

/** The success body of one API call, typed from the contract. */
export type CallOutput<K extends OperationId> = StaticOf<(typeof routes)[K]["response"]>;

/** An error answered by the server (or a network failure, status 0), with the server's message. */
export class ApiError extends Error {
	readonly status: number;
	readonly code: string;
	constructor(status: number, code: string, message: string) {
		super(message);
		this.name = "ApiError";
		this.status = status;
		this.code = code;
	}

	/** True when this server has no such endpoint (an older server, or a feature that has not landed yet). */
	get isUnavailable(): boolean {
		return this.status === 501 || (this.status === 404 && this.message.startsWith("no such endpoint"));
	}
}

let token: string | undefined;
const unauthorizedListeners = new Set<(error: ApiError) => void>();

/** Sets the credential every call sends as `Authorization: Bearer`. */
export function setApiToken(value: string | undefined): void {
	token = value;
}

/** Calls `listener` whenever the server rejects the credential (401, or 403 on /api/you). */
export function onUnauthorized(listener: (error: ApiError) => void): () => void {
	unauthorizedListeners.add(listener);
	return () => unauthorizedListeners.delete(listener);
}

/** The path of an operation with its parameters filled in; a `*` parameter keeps its slashes. */
export function apiPath(op: OperationId, params: Record<string, unknown> = {}, query: Record<string, unknown> = {}) {
	let path: string = endpoints[op].url.replace(/:([A-Za-z_]+)/g, (_, name: string) =>
		encodeURIComponent(String(params[name] ?? "")),
	);
	if (path.includes("*")) {
		const rest = String(params["*"] ?? "")
			.split("/")
			.map(encodeURIComponent)
			.join("/");
		path = path.replace("*", rest);
	}
	const search = new URLSearchParams();
	for (const [k, v] of Object.entries(query)) {
		if (v === undefined || v === null || v === "") continue;
		if (Array.isArray(v)) for (const item of v) search.append(k, String(item));
		else search.set(k, String(v));
	}
	const qs = search.toString();
	return qs ? `${path}?${qs}` : path;
}

/** Fetches an API path with the credential; answers that are not 2xx become ApiError. */
export async function apiFetch(path: string, init: RequestInit = {}): Promise<Response> {
	const headers = new Headers(init.headers);
	if (token) headers.set("authorization", `Bearer ${token}`);
	let res: Response;
	try {
		res = await fetch(path, { ...init, headers });
	} catch (cause) {
		if (init.signal?.aborted) throw init.signal.reason;
		throw new ApiError(0, "network", `cannot reach the server (${cause instanceof Error ? cause.message : "offline"})`);
	}
	if (res.ok) return res;
	const error = await errorOf(res);
	if (res.status === 401 || (res.status === 403 && path.startsWith(endpoints.get_you.url))) {
		for (const listener of unauthorizedListeners) listener(error);
	} else if (res.status === 403) {
		checkCredential();
	}
	throw error;
}

let checking = false;

/** A 403 may mean "not yours" or "your token was revoked": asking /api/you tells which (and signs out if needed). */
function checkCredential(): void {
	if (checking) return;
	checking = true;
	apiFetch(endpoints.get_you.url)
		.catch(() => undefined)
		.finally(() => {
			checking = false;
		});
}

async function errorOf(res: Response): Promise<ApiError> {
	const text = await res.text().catch(() => "");
	try {
		const body = JSON.parse(text) as { message?: unknown; code?: unknown };
		if (typeof body.message === "string")
			return new ApiError(res.status, typeof body.code === "string" ? body.code : "", body.message);
	} catch {
		// not JSON: a proxy's error page; fall through to the status line
	}
	return new ApiError(res.status, "", `the server answered ${res.status} ${res.statusText}`.trim());
}

/** Calls one operation of the API and returns its JSON body, typed from the contract. */
export async function apiCall<K extends OperationId>(op: K, input: CallInput<K> = {}): Promise<CallOutput<K>> {
	const path = apiPath(
		op,
		input.params as Record<string, unknown> | undefined,
		input.query as Record<string, unknown> | undefined,
	);
	const hasBody = input.body !== undefined;
	const res = await apiFetch(path, {
		method: endpoints[op].method,
		...(hasBody ? { body: JSON.stringify(input.body), headers: { "content-type": "application/json" } } : {}),
		...(input.signal ? { signal: input.signal } : {}),
	});
	return (await res.json()) as CallOutput<K>;
}

/** A readable sentence for any caught value. */
export function errorMessage(error: unknown): string {
	if (error instanceof Error) return error.message;
	return String(error);
}

/** True when the value is the rejection of an aborted request (not worth showing). */
export function isAbort(error: unknown): boolean {
	return error instanceof DOMException && error.name === "AbortError";
}
