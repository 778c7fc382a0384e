import { createHash, randomBytes } from "node:crypto";
import { AppError, type Clock } from "../common/index.js";
import type { OidcConfig } from "../config/index.js";
import { checkClaims, decodeJwt, type Jwk, verifySignature } from "./jwt-verifier.js";

/** The parts of a provider's discovery document Orrery uses. */
export interface ProviderMetadata {
	issuer: string;
	authorization_endpoint: string;
	token_endpoint: string;
	jwks_uri: string;
	device_authorization_endpoint?: string;
	end_session_endpoint?: string;
	userinfo_endpoint?: string;
	token_endpoint_auth_methods_supported?: string[];
}

/** A token endpoint answer (RFC 6749 §5.1), or its error (§5.2). */
export interface TokenResponse {
	access_token?: string;
	id_token?: string;
	refresh_token?: string;
	expires_in?: number;
	error?: string;
	error_description?: string;
}

/** A device authorization answer (RFC 8628 §3.2). */
export interface DeviceAuthorization {
	device_code: string;
	user_code: string;
	verification_uri: string;
	verification_uri_complete?: string;
	expires_in: number;
	interval?: number;
}

const metadataTtlMs = 3600_000;
const jwksMinRefreshMs = 30_000;

/** A random URL-safe secret (state, nonce, PKCE verifier). */
export function randomSecret(bytes = 32): string {
	return randomBytes(bytes).toString("base64url");
}

/** The PKCE S256 challenge of a verifier. */
export function pkceChallenge(verifier: string): string {
	return createHash("sha256").update(verifier, "ascii").digest("base64url");
}

/**
 * One OpenID Connect provider: discovery, keys, and the token endpoint calls of the authorization code and
 * device flows. Discovery and keys are cached; an unknown key id refetches the keys (at most every 30 s).
 */
export class OidcProvider {
	private metadata: { value: ProviderMetadata; at: number } | undefined;
	private keys: { value: Jwk[]; at: number } | undefined;

	constructor(
		readonly config: OidcConfig,
		private readonly clock: Clock,
	) {}

	/** The provider's discovery document (cached for an hour). */
	async discover(): Promise<ProviderMetadata> {
		const now = this.clock.now().getTime();
		if (this.metadata && now - this.metadata.at < metadataTtlMs) return this.metadata.value;
		const url = `${this.config.issuer}/.well-known/openid-configuration`;
		const doc = (await this.getJson(url)) as ProviderMetadata;
		if (doc.issuer !== this.config.issuer) {
			throw new AppError(
				"backend_unavailable",
				`the OIDC provider at ${url} names itself '${doc.issuer}', not ORRERY_OIDC_ISSUER=${this.config.issuer}`,
			);
		}
		this.metadata = { value: doc, at: now };
		return doc;
	}

	/** The provider's signing key with this id (or its only key when the token names none). */
	async key(kid: string | undefined, what: string): Promise<Jwk> {
		const pick = (keys: Jwk[]) =>
			kid === undefined
				? keys.filter((k) => k.use !== "enc").length === 1
					? keys[0]
					: undefined
				: keys.find((k) => k.kid === kid);
		const now = this.clock.now().getTime();
		let found = this.keys ? pick(this.keys.value) : undefined;
		if (!found && (!this.keys || now - this.keys.at >= jwksMinRefreshMs)) {
			const doc = (await this.getJson((await this.discover()).jwks_uri)) as { keys?: Jwk[] };
			this.keys = { value: Array.isArray(doc.keys) ? doc.keys : [], at: now };
			found = pick(this.keys.value);
		}
		if (!found) throw new AppError("forbidden", `the ${what} is not valid: it was not signed by a key of the provider`);
		return found;
	}

	/** Verifies a JWT the provider issued (signature, issuer, audience, expiry) and returns its claims. */
	async verify(
		token: string,
		options: { audience: string; nonce?: string; what: string },
	): Promise<Record<string, unknown>> {
		const jwt = decodeJwt(token, options.what);
		const kid = typeof jwt.header.kid === "string" ? jwt.header.kid : undefined;
		verifySignature(jwt, await this.key(kid, options.what), options.what);
		checkClaims(jwt.payload, {
			issuer: this.config.issuer,
			audience: options.audience,
			now: this.clock.now(),
			what: options.what,
			...(options.nonce !== undefined ? { nonce: options.nonce } : {}),
		});
		return jwt.payload;
	}

	/** The URL that sends a browser to the provider's login (authorization code flow with PKCE S256). */
	async authorizationUrl(p: { redirectUri: string; state: string; nonce: string; verifier: string }): Promise<string> {
		const url = new URL((await this.discover()).authorization_endpoint);
		const q = url.searchParams;
		q.set("response_type", "code");
		q.set("client_id", this.config.clientId);
		q.set("redirect_uri", p.redirectUri);
		q.set("scope", this.config.scopes.join(" "));
		q.set("state", p.state);
		q.set("nonce", p.nonce);
		q.set("code_challenge", pkceChallenge(p.verifier));
		q.set("code_challenge_method", "S256");
		return url.toString();
	}

	/** Exchanges an authorization code for tokens. */
	async exchangeCode(code: string, verifier: string, redirectUri: string): Promise<TokenResponse> {
		const meta = await this.discover();
		return this.post(meta, meta.token_endpoint, {
			grant_type: "authorization_code",
			code,
			redirect_uri: redirectUri,
			code_verifier: verifier,
		});
	}

	/** Starts a device authorization (RFC 8628) for the CLI. */
	async startDeviceAuthorization(): Promise<DeviceAuthorization> {
		const meta = await this.discover();
		if (!meta.device_authorization_endpoint) {
			throw new AppError("not_implemented", `the OIDC provider ${this.config.issuer} offers no device authorization`);
		}
		const res = (await this.post(meta, meta.device_authorization_endpoint, {
			scope: this.config.scopes.join(" "),
		})) as TokenResponse & Partial<DeviceAuthorization>;
		if (res.error || !res.device_code || !res.user_code || !res.verification_uri) {
			throw new AppError(
				"backend_unavailable",
				`the OIDC provider refused a device login: ${res.error_description ?? res.error ?? "incomplete answer"}`,
			);
		}
		return res as DeviceAuthorization;
	}

	/**
	 * The ID token's claims, completed from the userinfo endpoint when the provider has one and answers
	 * (Helmholtz AAI, for one, releases `eduperson_entitlement` there). The ID token's subject must match;
	 * a provider whose userinfo refuses the access token leaves the ID token's claims as they are.
	 */
	async withUserinfo(
		claims: Record<string, unknown>,
		accessToken: string | undefined,
	): Promise<Record<string, unknown>> {
		const endpoint = (await this.discover()).userinfo_endpoint;
		if (!endpoint || !accessToken) return claims;
		let info: Record<string, unknown>;
		try {
			const res = await this.request(endpoint, {
				headers: { authorization: `Bearer ${accessToken}`, accept: "application/json" },
			});
			if (!res.ok || !(res.headers.get("content-type") ?? "").includes("json")) return claims;
			info = (await res.json()) as Record<string, unknown>;
		} catch {
			return claims; // the ID token alone is enough to log in
		}
		if (info.sub !== claims.sub) return claims;
		return { ...info, ...claims, ...mergedGroupClaims(claims, info, this.config.groupClaims) };
	}

	/** Asks the token endpoint whether a device login was approved; errors (pending, denied, …) come back in the answer. */
	async pollDeviceCode(deviceCode: string): Promise<TokenResponse> {
		const meta = await this.discover();
		return this.post(meta, meta.token_endpoint, {
			grant_type: "urn:ietf:params:oauth:grant-type:device_code",
			device_code: deviceCode,
		});
	}

	private async post(meta: ProviderMetadata, url: string, form: Record<string, string>): Promise<TokenResponse> {
		const headers: Record<string, string> = {
			"content-type": "application/x-www-form-urlencoded",
			accept: "application/json",
		};
		const body = new URLSearchParams(form);
		const { clientId, clientSecret } = this.config;
		const methods = meta.token_endpoint_auth_methods_supported ?? ["client_secret_basic"];
		if (clientSecret && methods.includes("client_secret_basic")) {
			// RFC 6749 §2.3.1: id and secret are form-encoded before they are joined and base64-encoded.
			const pair = `${encodeURIComponent(clientId)}:${encodeURIComponent(clientSecret)}`;
			headers.authorization = `Basic ${Buffer.from(pair).toString("base64")}`;
		} else {
			body.set("client_id", clientId);
			if (clientSecret) body.set("client_secret", clientSecret);
		}
		const res = await this.request(url, { method: "POST", headers, body });
		const text = await res.text();
		try {
			return JSON.parse(text) as TokenResponse;
		} catch (cause) {
			throw new AppError("backend_unavailable", `the OIDC provider answered ${res.status} without JSON at ${url}`, {
				cause,
			});
		}
	}

	private async getJson(url: string): Promise<unknown> {
		const res = await this.request(url, { headers: { accept: "application/json" } });
		if (!res.ok) throw new AppError("backend_unavailable", `the OIDC provider answered ${res.status} at ${url}`);
		try {
			return await res.json();
		} catch (cause) {
			throw new AppError("backend_unavailable", `the OIDC provider sent no JSON at ${url}`, { cause });
		}
	}

	private async request(url: string, init: RequestInit): Promise<Response> {
		try {
			return await fetch(url, { ...init, signal: AbortSignal.timeout(10_000) });
		} catch (cause) {
			throw new AppError("backend_unavailable", `cannot reach the OIDC provider at ${url}; try again later`, { cause });
		}
	}
}

/** Group claims present in both places are merged rather than one hiding the other. */
function mergedGroupClaims(
	a: Record<string, unknown>,
	b: Record<string, unknown>,
	names: readonly string[],
): Record<string, unknown> {
	const out: Record<string, unknown> = {};
	const list = (v: unknown) => (Array.isArray(v) ? v : v === undefined || v === null ? [] : [v]);
	for (const name of names) {
		if (a[name] === undefined && b[name] === undefined) continue;
		out[name] = [...new Set([...list(a[name]), ...list(b[name])])];
	}
	return out;
}
