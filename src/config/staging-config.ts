import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { AppError } from "../common/index.js";
import { parseYamlText as parseYaml } from "./yaml-text.js";

/** One S3 endpoint the server knows: where `s3://` URLs of some buckets (or all) are sent. */
export interface S3EndpointConfig {
	/** The name specs use (`endpoint: NAME`) and secret names are made of (`S3_<NAME>_ACCESS_KEY_ID`). */
	name: string;
	/** The endpoint URL; absent means AWS itself. */
	url: string | undefined;
	pathStyle: boolean;
	region: string;
	/** Buckets served here (globs with `*`); an empty list only serves specs that name the endpoint. */
	buckets: string[];
	/** Read without credentials (public data). */
	isAnonymous: boolean;
}

/** How runs stage data in and out (ORRERY_STAGING_* and ORRERY_STAGING_FILE). */
export interface StagingConfig {
	/** Private, loopback and link-local addresses are refused unless allowed here: `true`, or CIDRs and host names. */
	allowPrivateNetworks: boolean | string[];
	/** Folders `file://` inputs may come from; empty refuses every `file://` URL. */
	fileRoots: string[];
	/** Files transferred at once per run. */
	concurrency: number;
	/** Attempts after the first one for a transfer that failed for a passing reason. */
	retries: number;
	endpoints: S3EndpointConfig[];
	/** The endpoint for buckets no endpoint lists (absent: AWS, with its default region). */
	defaultEndpoint: string | undefined;
}

type Env = Record<string, string | undefined>;

/** Reads the staging settings: ORRERY_STAGING_FILE (YAML) first, then the ORRERY_STAGING_* / ORRERY_S3_* variables. */
export function readStagingConfig(env: Env): StagingConfig {
	const file = env.ORRERY_STAGING_FILE ? resolve(env.ORRERY_STAGING_FILE) : undefined;
	const doc = file ? readDoc(file) : {};
	const fail = (what: string) =>
		new AppError("validation_failed", `${file ? `ORRERY_STAGING_FILE=${file}` : "staging configuration"}: ${what}`);
	const known = ["allow_private_networks", "file_roots", "concurrency", "retries", "endpoints", "default_endpoint"];
	const unknown = Object.keys(doc).filter((k) => !known.includes(k));
	if (unknown.length > 0) throw fail(`unknown key ${unknown.join(", ")} (known: ${known.join(", ")})`);
	const endpoints: S3EndpointConfig[] = [];
	for (const [name, raw] of Object.entries(isRecord(doc.endpoints) ? doc.endpoints : {})) {
		if (!/^[A-Za-z][A-Za-z0-9_-]*$/.test(name)) throw fail(`endpoint name '${name}' must be letters, digits, - or _`);
		if (!isRecord(raw)) throw fail(`endpoint '${name}' must be a mapping (url, path_style, region, buckets)`);
		endpoints.push(endpointOf(name, raw, fail));
	}
	if (env.ORRERY_S3_ENDPOINT) {
		endpoints.push(
			endpointOf(
				"default",
				{ url: env.ORRERY_S3_ENDPOINT, path_style: env.ORRERY_S3_PATH_STYLE !== "false", region: env.ORRERY_S3_REGION },
				fail,
			),
		);
	}
	const defaultEndpoint =
		(typeof doc.default_endpoint === "string" ? doc.default_endpoint : undefined) ??
		(env.ORRERY_S3_ENDPOINT ? "default" : undefined);
	if (defaultEndpoint && !endpoints.some((e) => e.name === defaultEndpoint)) {
		throw fail(`default_endpoint '${defaultEndpoint}' is not among the endpoints`);
	}
	const allowEnv = env.ORRERY_STAGING_ALLOW_PRIVATE;
	let allowPrivateNetworks: boolean | string[] = false;
	if (allowEnv === "true") allowPrivateNetworks = true;
	else if (allowEnv && allowEnv !== "false") allowPrivateNetworks = list(allowEnv);
	else if (doc.allow_private_networks === true) allowPrivateNetworks = true;
	else if (Array.isArray(doc.allow_private_networks)) allowPrivateNetworks = doc.allow_private_networks.map(String);
	const roots = env.ORRERY_STAGING_FILE_ROOTS ? list(env.ORRERY_STAGING_FILE_ROOTS) : (doc.file_roots ?? []);
	if (!Array.isArray(roots)) throw fail("file_roots must be a list of folders");
	return {
		allowPrivateNetworks,
		fileRoots: roots.map((r) => resolve(String(r))),
		concurrency: count(env.ORRERY_STAGING_CONCURRENCY ?? doc.concurrency, 16, 1, 256, "concurrency", fail),
		retries: count(env.ORRERY_STAGING_RETRIES ?? doc.retries, 4, 0, 20, "retries", fail),
		endpoints,
		defaultEndpoint,
	};
}

function endpointOf(name: string, raw: Record<string, unknown>, fail: (what: string) => AppError): S3EndpointConfig {
	const url = raw.url === undefined ? undefined : String(raw.url);
	if (url !== undefined && !/^https?:\/\/[^/]+/.test(url))
		throw fail(`endpoint '${name}': url must be http(s)://host[:port]`);
	const buckets = raw.buckets ?? [];
	if (!Array.isArray(buckets)) throw fail(`endpoint '${name}': buckets must be a list`);
	return {
		name,
		url: url?.replace(/\/+$/, ""),
		pathStyle: raw.path_style === undefined ? url !== undefined : raw.path_style === true || raw.path_style === "true",
		region: typeof raw.region === "string" && raw.region ? raw.region : "us-east-1",
		buckets: buckets.map(String),
		isAnonymous: raw.anonymous === true,
	};
}

function readDoc(file: string): Record<string, unknown> {
	try {
		const doc = parseYaml(readFileSync(file, "utf8")) ?? {};
		if (!isRecord(doc)) throw new Error("expected a mapping");
		return doc;
	} catch (error) {
		throw new AppError("validation_failed", `ORRERY_STAGING_FILE=${file} cannot be read: ${(error as Error).message}`, {
			cause: error,
		});
	}
}

function count(
	raw: unknown,
	fallback: number,
	min: number,
	max: number,
	what: string,
	fail: (what: string) => AppError,
): number {
	if (raw === undefined || raw === "") return fallback;
	const n = Number(raw);
	if (!Number.isInteger(n) || n < min || n > max) throw fail(`${what} must be a whole number from ${min} to ${max}`);
	return n;
}

function list(value: string): string[] {
	return value
		.split(/[,\s]+/)
		.map((s) => s.trim())
		.filter(Boolean);
}

function isRecord(value: unknown): value is Record<string, unknown> {
	return typeof value === "object" && value !== null && !Array.isArray(value);
}
