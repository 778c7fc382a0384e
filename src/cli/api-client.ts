import { request as httpRequest, type IncomingMessage } from "node:http";
import { request as httpsRequest } from "node:https";
import { Readable } from "node:stream";
import type { Static, TSchema } from "typebox";
import { AppError } from "../common/index.js";
import { codeForStatus, type ErrorCode, endpoints, type OperationId, type routes } from "../contract/index.js";

type StaticOf<T> = T extends TSchema ? Static<T> : undefined;

/** The inputs of one API call, typed from the contract. */
export type CallInput<K extends OperationId> = {
	params?: StaticOf<(typeof routes)[K] extends { params: infer P } ? P : undefined>;
	query?: Partial<StaticOf<(typeof routes)[K] extends { querystring: infer Q } ? Q : undefined>> &
		Record<string, unknown>;
	body?: StaticOf<(typeof routes)[K] extends { body: infer B } ? B : undefined>;
};

/** The success body of one API call, typed from the contract. */
export type CallOutput<K extends OperationId> = StaticOf<(typeof routes)[K]["response"]>;

/** An error answered by the server, with its body. */
export class ApiError extends AppError {
	readonly status: number;
	constructor(status: number, code: ErrorCode, message: string, details?: unknown) {
		super(code, message, { details });
		this.name = "ApiError";
		this.status = status;
	}
}

/** A typed client of the Orrery (and REANA) HTTP API. */
export class ApiClient {
	constructor(
		readonly baseUrl: string,
		private readonly token: string | undefined,
	) {}

	/** Builds the URL of a route with its path parameters (a `*` path keeps its slashes). */
	url(op: OperationId, params: Record<string, unknown> = {}, query: Record<string, unknown> = {}): string {
		const r = endpoints[op];
		let path = r.url.replace(/:([A-Za-z_]+)/g, (_, name: string) => encodeURIComponent(String(params[name] ?? "")));
		if (path.includes("*")) {
			const rest = String(params["*"] ?? "")
				.split("/")
				.map(encodeURIComponent)
				.join("/");
			path = path.replace("*", rest);
		}
		const u = new URL(path, `${this.baseUrl}/`);
		for (const [k, v] of Object.entries(query)) {
			if (v === undefined || v === null) continue;
			if (Array.isArray(v)) for (const item of v) u.searchParams.append(k, String(item));
			else u.searchParams.set(k, String(v));
		}
		return u.toString();
	}

	private headers(extra: Record<string, string> = {}): Record<string, string> {
		return { ...(this.token ? { authorization: `Bearer ${this.token}` } : {}), ...extra };
	}

	/** Calls one route and returns its parsed JSON body; errors become ApiError with the server's message. */
	async call<K extends OperationId>(op: K, input: CallInput<K> = {}): Promise<CallOutput<K>> {
		const r = endpoints[op];
		const url = this.url(op, input.params as Record<string, unknown>, input.query as Record<string, unknown>);
		const hasBody = input.body !== undefined;
		const res = await this.fetch(url, {
			method: r.method,
			headers: this.headers(hasBody ? { "content-type": "application/json" } : {}),
			...(hasBody ? { body: JSON.stringify(input.body) } : {}),
		});
		return (await this.parse(res)) as CallOutput<K>;
	}

	/** Uploads one file as a stream (node:http: web streams through fetch cost 4× the throughput). */
	async upload(workflow: string, fileName: string, body: Readable, size: number): Promise<void> {
		const url = this.url("upload_file", { workflow_id_or_name: workflow }, { file_name: fileName });
		const res = await this.stream(
			url,
			"POST",
			{ "content-type": "application/octet-stream", "content-length": String(size) },
			body,
		);
		await this.parse(await responseOf(res));
	}

	/** Uploads many files as one streamed tar archive (Orrery extension), unpacked by the server. */
	async uploadArchive(workflow: string, body: Readable): Promise<CallOutput<"upload_archive">> {
		const url = this.url("upload_archive", { workflow_id_or_name: workflow });
		const res = await this.stream(url, "POST", { "content-type": "application/x-tar" }, body);
		return (await this.parse(await responseOf(res))) as CallOutput<"upload_archive">;
	}

	/** Starts the download of many files as one tar archive (Orrery extension); the caller streams the body. */
	async downloadArchive(workflow: string, names: readonly string[]): Promise<IncomingMessage> {
		const url = this.url("download_archive", { workflow_id_or_name: workflow });
		const body = Readable.from([Buffer.from(JSON.stringify({ files: names }))]);
		const res = await this.stream(url, "POST", { "content-type": "application/json" }, body);
		if ((res.statusCode ?? 500) >= 400) await this.parse(await responseOf(res));
		return res;
	}

	/** Starts a download; the caller streams the body (an IncomingMessage) and reads its headers. */
	async download(workflow: string, path: string): Promise<IncomingMessage> {
		const res = await this.stream(this.url("download_file", { workflow_id_or_name: workflow, "*": path }), "GET", {});
		if ((res.statusCode ?? 500) >= 400) await this.parse(await responseOf(res));
		return res;
	}

	private stream(
		url: string,
		method: string,
		headers: Record<string, string>,
		body?: Readable,
	): Promise<IncomingMessage> {
		const u = new URL(url);
		const send = u.protocol === "https:" ? httpsRequest : httpRequest;
		return new Promise((done, fail) => {
			const req = send(u, { method, headers: this.headers(headers) }, done);
			req.on("error", (cause) =>
				fail(
					new AppError(
						"backend_unavailable",
						`cannot reach the Orrery server at ${this.baseUrl}; check ORRERY_SERVER_URL and that the server runs (orrery server)`,
						{ cause },
					),
				),
			);
			if (body) {
				body.on("error", (error) => req.destroy(error));
				body.pipe(req);
			} else req.end();
		});
	}

	private async fetch(url: string, init: RequestInit): Promise<Response> {
		try {
			return await fetch(url, init);
		} catch (cause) {
			throw new AppError(
				"backend_unavailable",
				`cannot reach the Orrery server at ${this.baseUrl}; check ORRERY_SERVER_URL and that the server runs (orrery server)`,
				{ cause },
			);
		}
	}

	private async parse(res: Response): Promise<unknown> {
		const text = await res.text();
		let body: unknown;
		try {
			body = text ? JSON.parse(text) : {};
		} catch {
			body = { message: text.slice(0, 500) };
		}
		if (!res.ok) {
			// REANA answers some 404s with the list of names it could not find.
			if (Array.isArray(body)) body = { message: `not found: ${body.join(", ")}`, code: "not_found" };
			const b = body as { message?: string; code?: ErrorCode; details?: unknown };
			throw new ApiError(res.status, b.code ?? codeForStatus(res.status), b.message ?? `HTTP ${res.status}`, b.details);
		}
		return body;
	}
}

/** Reads a whole (small, error or JSON) streamed response into a fetch Response. */
async function responseOf(res: IncomingMessage): Promise<Response> {
	const chunks: Buffer[] = [];
	for await (const c of res) chunks.push(c as Buffer);
	return new Response(Buffer.concat(chunks), { status: res.statusCode ?? 500 });
}
