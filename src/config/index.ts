import { homedir, hostname } from "node:os";
import { join, resolve } from "node:path";
import { AppError } from "../common/index.js";

/** Everything the server reads from its environment (ORRERY_* variables), validated in one place. */
export interface ServerConfig {
	home: string;
	databaseUrl: string;
	/** PostgreSQL schema to use (created if missing); lets several deployments or test runs share one database. */
	databaseSchema: string | undefined;
	workspaceRoot: string;
	host: string;
	port: number;
	containerRuntime: "auto" | "none" | "podman" | "docker";
	logLevel: string;
	instanceId: string;
	defaultBackend: string;
	maxUploadBytes: number;
	/** Base URL users reach the server at (for links in messages). */
	publicUrl: string | undefined;
	/** ORRERY_SECRET_KEY: 32 bytes (hex or base64) that encrypt users' secrets; default: a key file under home. */
	secretKey: string | undefined;
	/** ORRERY_QUOTA_MANAGEMENT_SECRET: REANA's X-Quota-Management-Secret for the /api/quota endpoints. */
	quotaManagementSecret: string | undefined;
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
	return {
		home,
		databaseUrl: env.ORRERY_DATABASE_URL || join(home, "orrery.db"),
		databaseSchema: env.ORRERY_DATABASE_SCHEMA || undefined,
		workspaceRoot: resolve(env.ORRERY_WORKSPACE_ROOT || join(home, "workspaces")),
		host: env.ORRERY_HOST || "127.0.0.1",
		port,
		containerRuntime: runtime as ServerConfig["containerRuntime"],
		logLevel: env.ORRERY_LOG_LEVEL || "info",
		instanceId: env.ORRERY_INSTANCE_ID || `${hostname()}:${process.pid}`,
		defaultBackend: env.ORRERY_DEFAULT_BACKEND || "local",
		maxUploadBytes: integer(env, "ORRERY_MAX_UPLOAD_BYTES", 1024 ** 4, 1, Number.MAX_SAFE_INTEGER),
		publicUrl: env.ORRERY_PUBLIC_URL || undefined,
		secretKey: env.ORRERY_SECRET_KEY || undefined,
		quotaManagementSecret: env.ORRERY_QUOTA_MANAGEMENT_SECRET || undefined,
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

function configError(name: string, value: string, hint: string): AppError {
	return new AppError("validation_failed", `${name}=${value} is not valid: ${hint}`);
}
