import { readFileSync } from "node:fs";
import { homedir, hostname } from "node:os";
import { join, resolve } from "node:path";
import { AppError } from "../common/index.js";
import { type IdentityConfig, type OidcConfig, readIdentityConfig, readOidcConfig } from "./identity-config.js";
import { readStagingConfig, type StagingConfig } from "./staging-config.js";
import { readWorkspaceRootTemplate } from "./workspace-root-template.js";
import { parseYamlText as parseYaml } from "./yaml-text.js";

export type { IdentityConfig, OidcConfig } from "./identity-config.js";
export { readStagingConfig, type S3EndpointConfig, type StagingConfig } from "./staging-config.js";
export { checkWorkspaceRootTemplate } from "./workspace-root-template.js";

/** Everything the server reads from its environment (ORRERY_* variables), validated in one place. */
export interface ServerConfig {
	home: string;
	databaseUrl: string;
	/** PostgreSQL schema to use (created if missing); lets several deployments or test runs share one database. */
	databaseSchema: string | undefined;
	workspaceRoot: string;
	/** ORRERY_WORKSPACE_ROOT_TEMPLATE: one folder per user (`/lustre/projects/{user}/orrery`); undefined: all under workspaceRoot. */
	workspaceRootTemplate: string | undefined;
	host: string;
	port: number;
	containerRuntime: "auto" | "none" | "podman" | "docker";
	logLevel: string;
	instanceId: string;
	defaultBackend: string;
	maxUploadBytes: number;
	/** Base URL users reach the server at (for links in messages). */
	publicUrl: string | undefined;
	/**
	 * ORRERY_SESSIONS_URL: the separate origin interactive sessions are served at (e.g.
	 * `https://orrery-sessions.example.net`, best another registrable domain than the server's);
	 * undefined: on the server's own origin.
	 */
	sessionsUrl: string | undefined;
	/** ORRERY_BACKENDS_FILE: the file the backends were read from, if any. */
	backendsFile?: string;
	/** The compute backends to create; absent means one `local` backend. Settings are checked against each kind's schema when created. */
	backends?: BackendEntry[];
	/** OIDC login and provider tokens (ORRERY_OIDC_*); undefined when no issuer is configured. */
	oidc: OidcConfig | undefined;
	/** Personal access tokens, web sessions and authentication rate limits. */
	identity: IdentityConfig;
	/** ORRERY_SECRET_KEY: 32 bytes (hex or base64) that encrypt users' secrets; default: a key file under home. */
	secretKey: string | undefined;
	/** ORRERY_QUOTA_MANAGEMENT_SECRET: REANA's X-Quota-Management-Secret for the /api/quota endpoints. */
	quotaManagementSecret: string | undefined;
	/** ORRERY_LOCAL_MAX_ACTIVE_JOBS: jobs the default local backend runs at once (default: the number of CPUs). */
	localMaxActiveJobs: number | undefined;
	/** ORRERY_TRUST_PROXY: the reverse proxies whose X-Forwarded-For is believed (`true`, or their addresses). */
	trustProxy: boolean | string | undefined;
	/** Serve Prometheus metrics at /metrics (default true; the CLI's embedded server turns it off). */
	metrics?: boolean;
	/** Staging of remote inputs and publishing of outputs (ORRERY_STAGING_*, ORRERY_S3_*). */
	staging: StagingConfig;
	/**
	 * ORRERY_INTERACTIVE_SESSIONS: who may open interactive sessions (Jupyter on the server's host, as the
	 * server's user): `on` (anyone who may run the run; the default), `admins`, or `off`.
	 */
	interactiveSessions: "on" | "admins" | "off";
	/** ORRERY_SESSION_MAX_IDLE_DAYS: an interactive session unused this long closes itself (default 7; 0: never). */
	sessionMaxIdleDays: number;
	/** ORRERY_JUPYTER_COMMAND: the `jupyter` program interactive sessions run (default: `jupyter` on the PATH). */
	jupyterCommand?: string;
	/** How long a check that a session's user may still enter is trusted (ms; default 30 s; tests shorten it). */
	sessionAccessRecheckMs?: number;
	/** How long a session's Jupyter may take to answer (ms; default 60 s). */
	jupyterStartTimeoutMs?: number;
	/** The server of one CLI command (`orrery run` without a server): sessions are reached directly, not through it. */
	embedded?: boolean;
}

/** One backend of ORRERY_BACKENDS_FILE: the name steps use, its kind, and its settings (unchecked here). */
export interface BackendEntry {
	name: string;
	kind: string;
	settings: Record<string, unknown>;
}

/** What the CLI reads from its environment: where the server is and who the user is. */
export interface ClientConfig {
	home: string;
	serverUrl: string | undefined;
	accessToken: string | undefined;
	workon: string | undefined;
}

type Env = Record<string, string | undefined>;

/** ORRERY_HOME, default `~/.local/share/orrery` (or `$XDG_DATA_HOME/orrery`). */
export function orreryHome(env: Env = process.env): string {
	if (env.ORRERY_HOME) return resolve(env.ORRERY_HOME);
	const data = env.XDG_DATA_HOME || join(homedir(), ".local", "share");
	return join(data, "orrery");
}

/** Reads and validates the server's settings. */
export function readServerConfig(env: Env = process.env): ServerConfig {
	const home = orreryHome(env);
	const port = integer(env, "ORRERY_PORT", 5000, 0, 65535);
	const runtime = env.ORRERY_CONTAINER_RUNTIME ?? "auto";
	if (!["auto", "none", "podman", "docker"].includes(runtime)) {
		throw configError("ORRERY_CONTAINER_RUNTIME", runtime, "use auto, none, podman or docker");
	}
	const file = env.ORRERY_BACKENDS_FILE ? resolve(env.ORRERY_BACKENDS_FILE) : undefined;
	const backends = file ? readBackendsFile(file, env, runtime) : undefined;
	const defaultBackend =
		env.ORRERY_DEFAULT_BACKEND ||
		backends?.defaultName ||
		(!backends || backends.entries.some((b) => b.name === "local") ? "local" : backends.entries[0]?.name) ||
		"local";
	if (backends && !backends.entries.some((b) => b.name === defaultBackend)) {
		throw new AppError(
			"validation_failed",
			`the default backend '${defaultBackend}' is not among the backends of ${file}: ${backends.entries.map((b) => b.name).join(", ")}`,
		);
	}
	const publicUrl = publicUrlOf(env.ORRERY_PUBLIC_URL);
	const host = env.ORRERY_HOST || "127.0.0.1";
	return {
		...(file && backends ? { backendsFile: file, backends: backends.entries } : {}),
		home,
		databaseUrl: env.ORRERY_DATABASE_URL || join(home, "orrery.db"),
		databaseSchema: env.ORRERY_DATABASE_SCHEMA || undefined,
		workspaceRoot: resolve(env.ORRERY_WORKSPACE_ROOT || join(home, "workspaces")),
		workspaceRootTemplate: readWorkspaceRootTemplate(env),
		host,
		port,
		containerRuntime: runtime as ServerConfig["containerRuntime"],
		logLevel: env.ORRERY_LOG_LEVEL || "info",
		instanceId: env.ORRERY_INSTANCE_ID || `${hostname()}:${process.pid}`,
		defaultBackend,
		maxUploadBytes: integer(env, "ORRERY_MAX_UPLOAD_BYTES", 1024 ** 4, 1, Number.MAX_SAFE_INTEGER),
		publicUrl,
		sessionsUrl: sessionsUrlOf(
			env.ORRERY_SESSIONS_URL,
			publicUrl,
			`http://${host.includes(":") ? `[${host}]` : host}:${port}`,
		),
		oidc: readOidcConfig(env),
		identity: readIdentityConfig(env),
		secretKey: env.ORRERY_SECRET_KEY || undefined,
		quotaManagementSecret: env.ORRERY_QUOTA_MANAGEMENT_SECRET || undefined,
		trustProxy: trustProxyOf(env.ORRERY_TRUST_PROXY),
		staging: readStagingConfig(env),
		...(env.ORRERY_JUPYTER_COMMAND ? { jupyterCommand: env.ORRERY_JUPYTER_COMMAND } : {}),
		sessionMaxIdleDays: integer(env, "ORRERY_SESSION_MAX_IDLE_DAYS", 7, 0, 3650),
		interactiveSessions: sessionsSetting(env.ORRERY_INTERACTIVE_SESSIONS),
		localMaxActiveJobs: env.ORRERY_LOCAL_MAX_ACTIVE_JOBS
			? integer(env, "ORRERY_LOCAL_MAX_ACTIVE_JOBS", 1, 1, 10_000)
			: undefined,
	};
}

/** Reads the CLI's settings; REANA's variables are honoured when Orrery's are not set. */
export function readClientConfig(env: Env = process.env): ClientConfig {
	return {
		home: orreryHome(env),
		serverUrl: (env.ORRERY_SERVER_URL || env.REANA_SERVER_URL || undefined)?.replace(/\/+$/, ""),
		accessToken: env.ORRERY_ACCESS_TOKEN || env.REANA_ACCESS_TOKEN || undefined,
		workon: env.ORRERY_WORKON || env.REANA_WORKON || undefined,
	};
}

function integer(env: Env, name: string, fallback: number, min: number, max: number): number {
	const raw = env[name];
	if (raw === undefined || raw === "") return fallback;
	const n = Number(raw);
	if (!Number.isInteger(n) || n < min || n > max)
		throw configError(name, raw, `use a whole number from ${min} to ${max}`);
	return n;
}

/** ORRERY_PUBLIC_URL: an http(s) origin; the API, the web UI and sessions live at the root of it. */
function publicUrlOf(value: string | undefined): string | undefined {
	if (!value) return undefined;
	let url: URL;
	try {
		url = new URL(value);
	} catch {
		throw configError(
			"ORRERY_PUBLIC_URL",
			value,
			"use the address users reach the server at, e.g. https://orrery.example.org",
		);
	}
	if (url.protocol !== "https:" && url.protocol !== "http:")
		throw configError("ORRERY_PUBLIC_URL", value, "use an http:// or https:// address");
	if (url.pathname !== "/" || url.search || url.hash)
		throw configError(
			"ORRERY_PUBLIC_URL",
			value,
			`the server is served at the root of its host; use ${url.origin} (a reverse proxy may not move it under a path)`,
		);
	return url.origin;
}

/**
 * ORRERY_SESSIONS_URL: an http(s) origin on another host name than the server's own (its public URL, or
 * the address it listens at): cookies do not keep ports apart, so a notebook page on the same host name
 * with another port could still set cookies the server's own pages receive.
 */
function sessionsUrlOf(
	value: string | undefined,
	publicUrl: string | undefined,
	listening: string,
): string | undefined {
	if (!value) return undefined;
	const name = "ORRERY_SESSIONS_URL";
	let url: URL;
	try {
		url = new URL(value);
	} catch {
		throw configError(
			name,
			value,
			"use the address interactive sessions are served at, on a host name of their own, e.g. https://orrery-sessions.example.net (best another registrable domain than the server's)",
		);
	}
	if (url.protocol !== "https:" && url.protocol !== "http:")
		throw configError(name, value, "use an http:// or https:// address");
	if (url.pathname !== "/" || url.search || url.hash || url.username || url.password)
		throw configError(name, value, `sessions are served at the root of their host; use ${url.origin}`);
	for (const [own, what] of [
		[publicUrl, `the server's public address (ORRERY_PUBLIC_URL=${publicUrl})`],
		[listening, `the address the server listens at (${listening})`],
	] as const) {
		if (own && new URL(own).hostname === url.hostname)
			throw configError(
				name,
				value,
				`it must be another host name than ${what}: on the same origin a notebook's scripts could read the web UI's credential, and cookies do not keep ports apart; use a host name of its own, e.g. https://orrery-sessions.example.net`,
			);
	}
	return url.origin;
}

function trustProxyOf(value: string | undefined): boolean | string | undefined {
	if (!value) return undefined;
	if (value === "true" || value === "false") return value === "true";
	return value;
}

function sessionsSetting(value: string | undefined): ServerConfig["interactiveSessions"] {
	if (value === undefined || value === "") return "on";
	if (value === "on" || value === "admins" || value === "off") return value;
	throw configError("ORRERY_INTERACTIVE_SESSIONS", value, "use on, admins or off");
}

function configError(name: string, value: string, hint: string): AppError {
	return new AppError("validation_failed", `${name}=${value} is not valid: ${hint}`);
}

/**
 * Reads ORRERY_BACKENDS_FILE (YAML or JSON):
 *   default: slurm                # optional; ORRERY_DEFAULT_BACKEND wins
 *   backends:
 *     local: {}
 *     slurm: { kind: slurm, partition: debug }   # kind defaults to the name
 * `${VAR}` in a string value is replaced by that environment variable (for tokens kept out of the file).
 */
export function readBackendsFile(
	file: string,
	env: Env = process.env,
	containerRuntime = env.ORRERY_CONTAINER_RUNTIME ?? "auto",
): { defaultName: string | undefined; entries: BackendEntry[] } {
	let doc: unknown;
	try {
		doc = parseYaml(readFileSync(file, "utf8"));
	} catch (error) {
		const why = (error as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : (error as Error).message;
		throw new AppError("validation_failed", `ORRERY_BACKENDS_FILE=${file} cannot be read: ${why}`, { cause: error });
	}
	const fail = (what: string) => new AppError("validation_failed", `ORRERY_BACKENDS_FILE=${file}: ${what}`);
	if (!isRecord(doc) || !isRecord(doc.backends) || Object.keys(doc.backends).length === 0) {
		throw fail("expected a mapping with `backends:` naming at least one backend");
	}
	const unknown = Object.keys(doc).filter((k) => k !== "backends" && k !== "default");
	if (unknown.length > 0) throw fail(`unknown top-level key ${unknown.join(", ")} (use backends and default)`);
	if (doc.default !== undefined && typeof doc.default !== "string") throw fail("`default` must be a backend name");
	const entries: BackendEntry[] = [];
	for (const [name, raw] of Object.entries(doc.backends)) {
		if (!/^[A-Za-z][A-Za-z0-9_-]*$/.test(name)) throw fail(`backend name '${name}' must be letters, digits, - or _`);
		const body = raw ?? {};
		if (!isRecord(body)) throw fail(`backend '${name}' must be a mapping of settings`);
		const { kind = name, ...settings } = substituteEnv(body, env, fail) as Record<string, unknown>;
		if (typeof kind !== "string") throw fail(`backend '${name}': kind must be a string`);
		if (kind === "local" && settings.containerRuntime === undefined) settings.containerRuntime = containerRuntime;
		entries.push({ name, kind, settings });
	}
	return { defaultName: doc.default as string | undefined, entries };
}

function substituteEnv(value: unknown, env: Env, fail: (what: string) => AppError): unknown {
	if (typeof value === "string") {
		return value.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_, name: string) => {
			const v = env[name];
			if (v === undefined) throw fail(`\${${name}} is used but not set in the environment`);
			return v;
		});
	}
	if (Array.isArray(value)) return value.map((v) => substituteEnv(v, env, fail));
	if (isRecord(value))
		return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, substituteEnv(v, env, fail)]));
	return value;
}

function isRecord(value: unknown): value is Record<string, unknown> {
	return typeof value === "object" && value !== null && !Array.isArray(value);
}
