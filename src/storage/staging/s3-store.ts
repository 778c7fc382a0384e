import { Agent as HttpAgent } from "node:http";
import { Agent as HttpsAgent } from "node:https";
import { Readable } from "node:stream";
import type { S3Client } from "@aws-sdk/client-s3";
import { AppError, newId } from "../../common/index.js";
import type { AddressGuard } from "./address-guard.js";
import { partialName, type RemoteBody, type RemoteEntry, type RemoteStore } from "./remote-store.js";
import { childUrl, type RemoteLocation } from "./remote-url.js";
import type { S3Credentials, S3Endpoint } from "./staging-credentials.js";
import { s3SecretNames } from "./staging-credentials.js";

type S3Module = typeof import("@aws-sdk/client-s3");

let sdk: Promise<[S3Module, typeof import("@aws-sdk/lib-storage")]> | undefined;
/** The AWS SDK loads only when a run stages from S3 (it costs a quarter second at start-up). */
function loadSdk(): Promise<[S3Module, typeof import("@aws-sdk/lib-storage")]> {
	sdk ??= Promise.all([import("@aws-sdk/client-s3"), import("@aws-sdk/lib-storage")]);
	return sdk;
}

/** Objects larger than this go straight to their key by multipart upload (its completion is atomic). */
const copyLimit = 5 * 1024 ** 3;

/** An S3 endpoint with one user's credentials. */
export class S3Store implements RemoteStore {
	/** Published objects carry their SHA-256 as metadata (`x-amz-meta-sha256`). */
	readonly capabilities = { keepsChecksums: true } as const;
	private client: Promise<S3Client> | undefined;
	private readonly agents: { http: HttpAgent; https: HttpsAgent };

	constructor(
		private readonly endpoint: S3Endpoint,
		private readonly credentials: S3Credentials | undefined,
		guard: AddressGuard,
		concurrency: number,
	) {
		const options = { keepAlive: true, maxSockets: Math.max(16, concurrency * 2), lookup: guard.lookup() as never };
		this.agents = { http: new HttpAgent(options), https: new HttpsAgent(options) };
	}

	private s3(): Promise<S3Client> {
		this.client ??= loadSdk().then(
			([m]) =>
				new m.S3Client({
					region: this.endpoint.region,
					forcePathStyle: this.endpoint.pathStyle,
					...(this.endpoint.url ? { endpoint: this.endpoint.url } : {}),
					credentials: this.credentials ?? { accessKeyId: "", secretAccessKey: "" },
					...(this.credentials ? {} : { signer: { sign: async <T>(request: T) => request } as never }),
					requestHandler: { httpAgent: this.agents.http, httpsAgent: this.agents.https, connectionTimeout: 30_000 },
					// Staging retries whole transfers itself, with its own backoff and messages.
					maxAttempts: 2,
					requestChecksumCalculation: "WHEN_REQUIRED",
					responseChecksumValidation: "WHEN_REQUIRED",
				}),
		);
		return this.client;
	}

	async list(loc: RemoteLocation, signal: AbortSignal): Promise<RemoteEntry[]> {
		if (!loc.isFolder) {
			const one = await this.stat(loc.url, signal);
			if (!one) throw new AppError("not_found", `${loc.url} does not exist (${this.endpoint.label})`);
			return [one];
		}
		const [m] = await loadSdk();
		const client = await this.s3();
		const prefix = loc.path;
		const out: RemoteEntry[] = [];
		let token: string | undefined;
		do {
			const page = await this.send(
				() =>
					client.send(new m.ListObjectsV2Command({ Bucket: loc.host, Prefix: prefix, ContinuationToken: token }), {
						abortSignal: signal,
					}),
				loc.url,
				"list",
			);
			for (const o of page.Contents ?? []) {
				if (!o.Key || o.Key.endsWith("/")) continue;
				const relative = o.Key.slice(prefix.length);
				// `a//b`, `a/./b`, `a/../b` are one object on S3 but no file path: its URL would even name another object.
				if (relative.split("/").some((p) => p === "" || p === "." || p === "..")) {
					throw new AppError(
						"validation_failed",
						`the object ${o.Key} under ${loc.url} cannot be staged as a file (its name has an empty, '.' or '..' part); rename it, or name the other objects one by one`,
					);
				}
				out.push({ url: childUrl(loc.url, relative), relative, size: o.Size, modified: o.LastModified });
			}
			token = page.IsTruncated ? page.NextContinuationToken : undefined;
		} while (token);
		if (out.length === 0)
			throw new AppError("not_found", `there are no objects under ${loc.url} (${this.endpoint.label})`);
		return out;
	}

	async open(url: string, signal: AbortSignal): Promise<RemoteBody> {
		const [m] = await loadSdk();
		const { bucket, key } = split(url);
		const client = await this.s3();
		const res = await this.send(
			() => client.send(new m.GetObjectCommand({ Bucket: bucket, Key: key }), { abortSignal: signal }),
			url,
			"read",
		);
		return { body: res.Body as Readable, size: res.ContentLength, modified: res.LastModified };
	}

	async stat(url: string, signal: AbortSignal): Promise<RemoteEntry | undefined> {
		const [m] = await loadSdk();
		const { bucket, key } = split(url);
		const client = await this.s3();
		try {
			const head = await client.send(new m.HeadObjectCommand({ Bucket: bucket, Key: key }), { abortSignal: signal });
			return {
				url,
				relative: "",
				size: head.ContentLength,
				modified: head.LastModified,
				sha256: head.Metadata?.sha256,
			};
		} catch (error) {
			if (statusOf(error) === 404) {
				// A missing bucket also answers 404 to HEAD: tell the two apart.
				try {
					await client.send(new m.HeadBucketCommand({ Bucket: bucket }), { abortSignal: signal });
				} catch (bucketError) {
					if (statusOf(bucketError) !== 404) throw this.translate(bucketError, url, "read");
					throw new AppError(
						"not_found",
						`the bucket ${bucket} does not exist (${this.endpoint.label}); check the bucket name in ${url}`,
						{ cause: bucketError },
					);
				}
				return undefined;
			}
			throw this.translate(error, url, "read");
		}
	}

	async put(
		url: string,
		body: () => Readable,
		size: number,
		sha256: string,
		signal: AbortSignal,
		owner?: string,
	): Promise<void> {
		const [m, storage] = await loadSdk();
		const { bucket, key } = split(url);
		const client = await this.s3();
		const direct = size > copyLimit;
		const temp = direct ? key : partialName(key, owner, newId());
		const upload = new storage.Upload({
			client,
			params: { Bucket: bucket, Key: temp, Body: body(), ContentLength: size, Metadata: { sha256 } },
			queueSize: 4,
			partSize: 16 * 1024 * 1024,
			leavePartsOnError: false,
		});
		const onAbort = () => void upload.abort().catch(() => undefined);
		signal.addEventListener("abort", onAbort, { once: true });
		try {
			await this.send(() => upload.done(), url, "write");
		} finally {
			signal.removeEventListener("abort", onAbort);
		}
		if (direct) return;
		try {
			const source = `${bucket}/${temp.split("/").map(encodeURIComponent).join("/")}`;
			await this.send(
				() =>
					client.send(
						new m.CopyObjectCommand({ Bucket: bucket, Key: key, CopySource: source, MetadataDirective: "COPY" }),
						{ abortSignal: signal },
					),
				url,
				"write",
			);
		} finally {
			await client.send(new m.DeleteObjectCommand({ Bucket: bucket, Key: temp })).catch(() => undefined);
		}
	}

	async remove(url: string, signal: AbortSignal): Promise<void> {
		const [m] = await loadSdk();
		const { bucket, key } = split(url);
		const client = await this.s3();
		await this.send(
			() => client.send(new m.DeleteObjectCommand({ Bucket: bucket, Key: key }), { abortSignal: signal }),
			url,
			"write",
		);
	}

	async readText(url: string, signal: AbortSignal): Promise<string | undefined> {
		if (!(await this.stat(url, signal))) return undefined;
		const { body } = await this.open(url, signal);
		const chunks: Buffer[] = [];
		for await (const c of body) chunks.push(c as Buffer);
		return Buffer.concat(chunks).toString("utf8");
	}

	close(): void {
		void this.client?.then((c) => c.destroy()).catch(() => undefined);
		this.agents.http.destroy();
		this.agents.https.destroy();
	}

	private async send<T>(call: () => Promise<T>, url: string, what: "read" | "write" | "list"): Promise<T> {
		try {
			return await call();
		} catch (error) {
			throw this.translate(error, url, what);
		}
	}

	/** Turns the SDK's errors into messages that say what to do. */
	private translate(error: unknown, url: string, what: "read" | "write" | "list"): unknown {
		if (error instanceof AppError || (error as Error)?.name === "AbortError") return error;
		const name = (error as { name?: string }).name ?? "";
		const status = statusOf(error);
		const creds = s3SecretNames(this.endpoint)[0]?.id ?? "";
		const where = this.endpoint.label;
		if (name === "NoSuchBucket")
			return new AppError(
				"not_found",
				`the bucket ${split(url).bucket} does not exist (${where}); check the bucket name in ${url}`,
				{
					cause: error,
				},
			);
		if (name === "NoSuchKey" || status === 404)
			return new AppError("not_found", `${url} does not exist (${where})`, { cause: error });
		if (name === "InvalidAccessKeyId" || name === "SignatureDoesNotMatch")
			return new AppError(
				"forbidden",
				`${where} does not accept the credentials in the secrets ${creds} and its secret key; check them`,
				{ cause: error },
			);
		if (name === "AccessDenied" || status === 403) {
			const verb = what === "write" ? "write to" : what === "list" ? "list" : "read";
			return new AppError(
				"forbidden",
				`permission denied: the credentials (${creds}) may not ${verb} ${url} (${where})`,
				{ cause: error },
			);
		}
		const message = (error as Error)?.message ?? String(error);
		return new AppError("backend_unavailable", `${where} failed for ${url}: ${message}`, {
			cause: error,
			retryable: status === undefined || status >= 500 || status === 429 || name === "SlowDown",
		});
	}
}

function split(url: string): { bucket: string; key: string } {
	const u = new URL(url);
	return { bucket: u.hostname, key: decodeURIComponent(u.pathname).replace(/^\/+/, "") };
}

function statusOf(error: unknown): number | undefined {
	return (error as { $metadata?: { httpStatusCode?: number } })?.$metadata?.httpStatusCode;
}

/** A Readable from a string (for manifests). */
export function textBody(text: string): () => Readable {
	return () => Readable.from([Buffer.from(text, "utf8")]);
}
