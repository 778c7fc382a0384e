import { execFileSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { v2 as webdav } from "webdav-server";
import type { TestServer } from "./test-server.js";

const here = dirname(fileURLToPath(import.meta.url));

/** The S3-protocol server of ../shared/services/s3.sh (started if needed) and its settings. */
export interface S3Service {
	endpoint: string;
	bucket: string;
	accessKeyId: string;
	secretAccessKey: string;
	client: S3Client;
	/** Writes an object. */
	put(key: string, body: string | Buffer): Promise<void>;
}

let s3: S3Service | undefined;

/** Starts (or finds running) the shared S3 server; idempotent and fast when it already runs. */
export function s3Service(): S3Service {
	if (s3) return s3;
	const script = resolve(here, "../../../shared/services/s3.sh");
	const out = execFileSync("bash", [script], {
		encoding: "utf8",
		stdio: ["ignore", "pipe", "ignore"],
		timeout: 120_000,
	});
	const env: Record<string, string> = {};
	for (const m of out.matchAll(/^export (\w+)=(.*)$/gm)) env[m[1] as string] = (m[2] as string).replace(/^"|"$/g, "");
	const endpoint = env.S3_ENDPOINT ?? "http://127.0.0.1:9000";
	const client = new S3Client({
		endpoint,
		forcePathStyle: true,
		region: env.AWS_REGION ?? "us-east-1",
		credentials: {
			accessKeyId: env.AWS_ACCESS_KEY_ID ?? "S3RVER",
			secretAccessKey: env.AWS_SECRET_ACCESS_KEY ?? "S3RVER",
		},
	});
	const bucket = env.S3_BUCKET ?? "test-bucket";
	s3 = {
		endpoint,
		bucket,
		accessKeyId: env.AWS_ACCESS_KEY_ID ?? "S3RVER",
		secretAccessKey: env.AWS_SECRET_ACCESS_KEY ?? "S3RVER",
		client,
		async put(key, body) {
			await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
		},
	};
	return s3;
}

/** A real WebDAV server (webdav-server) on a free loopback port, authenticating bearer tokens as dCache does. */
export interface WebDavService {
	url: string;
	root: string;
	close(): Promise<void>;
}

/** Starts a WebDAV server over a temp folder; `tokens` maps each token to whether it may write. */
export async function startWebDav(tokens: Record<string, { canWrite: boolean }>): Promise<WebDavService> {
	const root = mkdtempSync(join(tmpdir(), "orrery-dav-"));
	const users = new webdav.SimpleUserManager();
	const privileges = new webdav.SimplePathPrivilegeManager();
	const byToken = new Map<string, webdav.IUser>();
	for (const [token, { canWrite }] of Object.entries(tokens)) {
		const user = users.addUser(`user-${byToken.size}`, token, false);
		privileges.setRights(
			user,
			"/",
			canWrite ? ["all"] : ["canRead", "canReadLocks", "canReadContent", "canReadProperties"],
		);
		byToken.set(token, user);
	}
	const bearer: webdav.HTTPAuthentication = {
		askForAuthentication: () => ({ "WWW-Authenticate": 'Bearer realm="orrery-test"' }),
		getUser(ctx, callback) {
			const header = ctx.headers.find("authorization") ?? "";
			const m = /^Bearer (.+)$/.exec(header);
			if (!m) return users.getDefaultUser((u) => callback(undefined as unknown as Error, u));
			const user = byToken.get(m[1] as string);
			if (!user) return callback(new Error("bad token"));
			callback(undefined as unknown as Error, user);
		},
	};
	const server = new webdav.WebDAVServer({
		httpAuthentication: bearer,
		privilegeManager: privileges,
		requireAuthentification: true,
		port: 0,
	});
	await new Promise<void>((done, fail) =>
		server.setFileSystem("/", new webdav.PhysicalFileSystem(root), (ok) =>
			ok ? done() : fail(new Error("setFileSystem")),
		),
	);
	const http = await server.startAsync(0);
	const address = http.address();
	const port = typeof address === "object" && address ? address.port : 0;
	return { url: `http://127.0.0.1:${port}`, root, close: () => server.stopAsync() };
}

/** Stores the S3 keys a stage-in reads (and `extra` variables) as the user's secrets, through the API. */
export async function addS3Secrets(
	t: TestServer,
	token: string,
	s3: S3Service,
	extra: Record<string, string> = {},
): Promise<void> {
	const env = { AWS_ACCESS_KEY_ID: s3.accessKeyId, AWS_SECRET_ACCESS_KEY: s3.secretAccessKey, ...extra };
	const body = Object.fromEntries(
		Object.entries(env).map(([k, v]) => [k, { value: Buffer.from(v).toString("base64"), type: "env" }]),
	);
	const res = await t.call("POST", "/api/secrets/", { token, body });
	if (!res.ok) throw new Error(`storing the S3 secrets failed: ${res.status} ${await res.text()}`);
}
