import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { createUser, issueToken, type Scope } from "../../src/auth/index.js";
import { systemClock } from "../../src/common/index.js";
import { readServerConfig, type ServerConfig } from "../../src/config/index.js";
import { OrreryServer, type OrreryServerOptions } from "../../src/server/index.js";
import { type TestDatabase, testDatabase } from "./databases.js";

/** A real server on a real database and a temp home, listening on a free port. */
export interface TestServer {
	server: OrreryServer;
	url: string;
	home: string;
	database: TestDatabase;
	config: ServerConfig;
	/** Creates a user and returns a token for them. */
	user(
		email: string,
		options?: { scopes?: Scope[]; admin?: boolean; expiresAt?: Date | null },
	): Promise<{ id: string; token: string }>;
	/** Calls the API with a token (query `access_token`, as reana-client does, or a Bearer header). */
	call(
		method: string,
		path: string,
		options?: {
			token?: string;
			body?: unknown;
			raw?: RequestInit["body"];
			bearer?: boolean;
			headers?: Record<string, string>;
		},
	): Promise<Response>;
	close(): Promise<void>;
}

/** Starts a server for one test file. */
export async function startTestServer(
	dialect: "sqlite" | "postgres",
	options: Partial<OrreryServerOptions> & { env?: Record<string, string>; port?: number } = {},
): Promise<TestServer> {
	const home = mkdtempSync(join(tmpdir(), "orrery-home-"));
	const database = testDatabase(dialect);
	const config = readServerConfig({
		ORRERY_HOME: home,
		ORRERY_CONTAINER_RUNTIME: "none",
		...database.env,
		...(options.env ?? {}),
	});
	const server = await OrreryServer.open({
		config,
		logger: pino({ level: process.env.TEST_LOG_LEVEL ?? "silent" }),
		...options,
	});
	const url = await server.listen("127.0.0.1", options.port ?? 0);
	return {
		server,
		url,
		home,
		database,
		config,
		async user(email, o = {}) {
			const user = await createUser(server.db, { email, role: o.admin ? "admin" : "user" }, systemClock);
			const scopes: Scope[] = o.scopes ?? (o.admin ? ["read", "write", "run", "admin"] : ["read", "write", "run"]);
			const { value } = await issueToken(
				server.db,
				user,
				{ name: "test", scopes, expiresAt: o.expiresAt ?? null },
				systemClock,
			);
			return { id: user.id, token: value };
		},
		async call(method, path, o = {}) {
			const headers: Record<string, string> = { ...(o.headers ?? {}) };
			let target = `${url}${path}`;
			if (o.token && o.bearer) headers.authorization = `Bearer ${o.token}`;
			else if (o.token) target += `${path.includes("?") ? "&" : "?"}access_token=${encodeURIComponent(o.token)}`;
			let body: RequestInit["body"] | undefined;
			if (o.body !== undefined) {
				headers["content-type"] = "application/json";
				body = JSON.stringify(o.body);
			} else if (o.raw !== undefined) {
				headers["content-type"] ??= "application/octet-stream";
				body = o.raw;
			}
			return fetch(target, { method, headers, ...(body === undefined ? {} : { body }) });
		},
		async close() {
			await server.close();
			await database.drop();
			rmSync(home, { recursive: true, force: true });
		},
	};
}

/** Polls a run's status until it is no longer active. */
/**
 * Waits until an ended run's retention rules count down (they are activated just after the run is
 * reported ended, with its accounting).
 */
export async function waitForRetentionRules(t: TestServer, token: string, workflow: string): Promise<void> {
	const end = Date.now() + 10_000;
	for (;;) {
		const res = await t.call("GET", `/api/workflows/${workflow}/retention_rules`, { token });
		const body = (await res.json()) as { retention_rules: Array<{ status: string }> };
		if (body.retention_rules.every((r) => r.status !== "created")) return;
		if (Date.now() > end) throw new Error(`the retention rules of ${workflow} were not activated`);
		await new Promise((r) => setTimeout(r, 50));
	}
}

export async function waitForStatus(
	t: TestServer,
	token: string,
	workflow: string,
	timeoutMs = 30_000,
): Promise<Record<string, unknown>> {
	const end = Date.now() + timeoutMs;
	for (;;) {
		const res = await t.call("GET", `/api/workflows/${workflow}/status`, { token });
		const body = (await res.json()) as { status: string };
		if (!["created", "queued", "pending", "running"].includes(body.status)) return body;
		if (Date.now() > end) throw new Error(`workflow ${workflow} still ${body.status} after ${timeoutMs} ms`);
		await new Promise((r) => setTimeout(r, 100));
	}
}
