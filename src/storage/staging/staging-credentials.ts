import { AppError } from "../../common/index.js";
import type { S3EndpointConfig, StagingConfig } from "../../config/index.js";

/** A user's decrypted secrets as staging reads them (the same shape jobs get). */
export interface StagingSecrets {
	env: Record<string, string>;
	files: Record<string, Buffer>;
}

/** The S3 endpoint an `s3://` URL goes to, as resolved for one transfer. */
export interface S3Endpoint {
	/** Makes the secret names: `S3_<ID>_ACCESS_KEY_ID`. */
	id: string;
	/** How messages name it. */
	label: string;
	url: string | undefined;
	pathStyle: boolean;
	region: string;
	/** Configured by the administrator: the generic AWS_* secrets may be sent there. */
	isTrusted: boolean;
	isAnonymous: boolean;
}

/** Options a spec entry may give for its endpoint. */
export interface EndpointOptions {
	endpoint?: string | undefined;
	path_style?: boolean | undefined;
	region?: string | undefined;
}

/** An identifier usable in a secret name: `aip-minio` → `AIP_MINIO`, `s3.example.org` → `S3_EXAMPLE_ORG`. */
export function secretId(name: string): string {
	return name
		.toUpperCase()
		.replace(/[^A-Z0-9]+/g, "_")
		.replace(/^_+|_+$/g, "");
}

/** Finds the endpoint of a bucket: the one the spec names, else the first configured for the bucket, else the default. */
export function resolveS3Endpoint(bucket: string, options: EndpointOptions, config: StagingConfig): S3Endpoint {
	const fromConfig = (e: S3EndpointConfig): S3Endpoint => ({
		id: secretId(e.name),
		label: `endpoint ${e.name}${e.url ? ` (${e.url})` : ""}`,
		url: e.url,
		pathStyle: options.path_style ?? e.pathStyle,
		region: options.region ?? e.region,
		isTrusted: true,
		isAnonymous: e.isAnonymous,
	});
	const asked = options.endpoint;
	if (asked !== undefined) {
		if (!asked.includes(":")) {
			const named = config.endpoints.find((e) => e.name === asked);
			if (!named) {
				const names = config.endpoints.map((e) => e.name).join(", ") || "none";
				throw new AppError(
					"validation_failed",
					`the S3 endpoint '${asked}' is not configured on this server (configured: ${names}); give its URL instead`,
				);
			}
			return fromConfig(named);
		}
		const url = asked.replace(/\/+$/, "");
		const same = config.endpoints.find((e) => e.url === url);
		if (same) return fromConfig(same);
		const host = new URL(url).hostname;
		return {
			id: secretId(host),
			label: url,
			url,
			pathStyle: options.path_style ?? true,
			region: options.region ?? "us-east-1",
			isTrusted: false,
			isAnonymous: false,
		};
	}
	const byBucket = config.endpoints.find((e) => e.buckets.some((b) => globMatches(b, bucket)));
	const fallback = config.endpoints.find((e) => e.name === config.defaultEndpoint);
	const chosen = byBucket ?? fallback;
	if (chosen) return fromConfig(chosen);
	return {
		id: "AWS",
		label: "AWS S3",
		url: undefined,
		pathStyle: options.path_style ?? false,
		region: options.region ?? "us-east-1",
		isTrusted: true,
		isAnonymous: false,
	};
}

/** S3 credentials of a user for an endpoint, from their secrets. */
export interface S3Credentials {
	accessKeyId: string;
	secretAccessKey: string;
	sessionToken?: string;
}

/** The secret names that hold credentials for an endpoint, most specific first. */
export function s3SecretNames(ep: S3Endpoint): Array<{ id: string; secret: string; token: string }> {
	const own = {
		id: `S3_${ep.id}_ACCESS_KEY_ID`,
		secret: `S3_${ep.id}_SECRET_ACCESS_KEY`,
		token: `S3_${ep.id}_SESSION_TOKEN`,
	};
	const generic = { id: "AWS_ACCESS_KEY_ID", secret: "AWS_SECRET_ACCESS_KEY", token: "AWS_SESSION_TOKEN" };
	return ep.isTrusted ? [own, generic] : [own];
}

/** The credentials for an endpoint, or an error naming the secrets to add. */
export function s3CredentialsFor(ep: S3Endpoint, secrets: StagingSecrets, url: string): S3Credentials | undefined {
	if (ep.isAnonymous) return undefined;
	for (const names of s3SecretNames(ep)) {
		const id = secretValue(secrets, names.id);
		const secret = secretValue(secrets, names.secret);
		if (!id || !secret) continue;
		const token = secretValue(secrets, names.token);
		return { accessKeyId: id, secretAccessKey: secret, ...(token ? { sessionToken: token } : {}) };
	}
	const own = s3SecretNames(ep)[0] as { id: string; secret: string };
	throw new AppError(
		"validation_failed",
		`no credentials for ${url} (${ep.label}): add the secrets ${own.id} and ${own.secret} (orrery secrets add --env ${own.id}=… --env ${own.secret}=…)`,
		{ details: { secrets: [own.id, own.secret] } },
	);
}

/** The secret that holds a bearer token for a host (WebDAV, dCache, HTTPS): `BEARER_TOKEN_<HOST>`. */
export function bearerSecretName(host: string): string {
	return `BEARER_TOKEN_${secretId(host.replace(/:\d+$/, "").replace(/^\[|\]$/g, ""))}`;
}

/** The user's bearer token for a host, if they stored one. */
export function bearerTokenFor(host: string, secrets: StagingSecrets): string | undefined {
	return secretValue(secrets, bearerSecretName(host));
}

function secretValue(secrets: StagingSecrets, name: string): string | undefined {
	const v = secrets.env[name] ?? secrets.files[name]?.toString("utf8");
	const trimmed = v?.trim();
	return trimmed ? trimmed : undefined;
}

function globMatches(glob: string, name: string): boolean {
	const re = new RegExp(`^${glob.split("*").map(escapeRegExp).join(".*")}$`);
	return re.test(name);
}

function escapeRegExp(s: string): string {
	return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
