import { AppError } from "../common/index.js";

type Env = Record<string, string | undefined>;

/** How the server talks to an OpenID Connect provider (ORRERY_OIDC_*); absent when no issuer is set. */
export interface OidcConfig {
	/** The issuer URL exactly as the provider's discovery document and tokens name it. */
	issuer: string;
	clientId: string;
	/** Absent for a public client (PKCE only; the device flow then needs the provider to allow public clients). */
	clientSecret: string | undefined;
	/** Scopes asked for at login; `openid` is always included. */
	scopes: string[];
	/** ID token claims whose values become the user's groups, in order (first present wins nothing: all are merged). */
	groupClaims: string[];
	/** When set, provider-issued JWT access tokens for this audience are accepted as Bearer tokens. */
	audience: string | undefined;
	/** Members of any of these groups are administrators (role synced at each login); empty: roles are not touched. */
	adminGroups: string[];
	/**
	 * When set, a provider access token's Orrery scopes come from its `scope` claim: `<prefix>read` gives `read`, and so
	 * on. When empty, a provider access token gives read, write and run (what a person logged in on the web can do).
	 */
	apiScopePrefix: string;
	/** Where the provider sends the browser back; default `<ORRERY_PUBLIC_URL>/api/auth/callback`. */
	redirectUri: string | undefined;
}

/** Personal access tokens, web sessions and the limits on failed authentication. */
export interface IdentityConfig {
	/** Expiry of a new personal access token when none is asked for (days). */
	tokenDefaultDays: number;
	/** The longest expiry a user may ask for (days); 0 allows tokens that never expire. */
	tokenMaxDays: number;
	/** How long a web session lasts (hours). */
	sessionHours: number;
	/** The window over which failed authentications are counted (seconds). */
	authFailureWindowSeconds: number;
	/** Failed authentications from one IP address within the window before it is refused with 429. */
	authFailuresPerIp: number;
	/** Failed authentications with one token prefix within the window before it is refused with 429. */
	authFailuresPerToken: number;
	/** ORRERY_TOKEN_MANAGEMENT_SECRET: REANA's X-Token-Management-Secret for DELETE /api/token; unset disables it. */
	tokenManagementSecret: string | undefined;
}

/** Reads ORRERY_OIDC_* (undefined when ORRERY_OIDC_ISSUER is not set). */
export function readOidcConfig(env: Env): OidcConfig | undefined {
	const issuer = env.ORRERY_OIDC_ISSUER?.trim();
	if (!issuer) return undefined;
	if (!/^https?:\/\/[^\s]+$/.test(issuer)) {
		throw new AppError("validation_failed", `ORRERY_OIDC_ISSUER=${issuer} is not valid: use the provider's issuer URL`);
	}
	const clientId = env.ORRERY_OIDC_CLIENT_ID?.trim();
	if (!clientId) {
		throw new AppError(
			"validation_failed",
			"ORRERY_OIDC_CLIENT_ID is not set: register Orrery as a client at the provider and set its id",
		);
	}
	const scopes = list(env.ORRERY_OIDC_SCOPES, ["openid", "profile", "email"]);
	if (!scopes.includes("openid")) scopes.unshift("openid");
	return {
		issuer: issuer.replace(/\/+$/, ""),
		clientId,
		clientSecret: env.ORRERY_OIDC_CLIENT_SECRET || undefined,
		scopes,
		groupClaims: list(env.ORRERY_OIDC_GROUP_CLAIMS, ["eduperson_entitlement", "groups"]),
		audience: env.ORRERY_OIDC_AUDIENCE?.trim() || undefined,
		adminGroups: list(env.ORRERY_OIDC_ADMIN_GROUPS, []),
		apiScopePrefix: env.ORRERY_OIDC_API_SCOPE_PREFIX ?? "",
		redirectUri: env.ORRERY_OIDC_REDIRECT_URI?.trim() || undefined,
	};
}

/** Reads the token, session and rate-limit settings. */
export function readIdentityConfig(env: Env): IdentityConfig {
	const tokenMaxDays = whole(env, "ORRERY_TOKEN_MAX_DAYS", 365, 0, 36500);
	const tokenDefaultDays = whole(env, "ORRERY_TOKEN_DEFAULT_DAYS", Math.min(90, tokenMaxDays || 90), 1, 36500);
	if (tokenMaxDays > 0 && tokenDefaultDays > tokenMaxDays) {
		throw new AppError(
			"validation_failed",
			`ORRERY_TOKEN_DEFAULT_DAYS=${tokenDefaultDays} is longer than ORRERY_TOKEN_MAX_DAYS=${tokenMaxDays}`,
		);
	}
	return {
		tokenDefaultDays,
		tokenMaxDays,
		sessionHours: whole(env, "ORRERY_SESSION_HOURS", 12, 1, 24 * 90),
		authFailureWindowSeconds: whole(env, "ORRERY_AUTH_FAILURE_WINDOW_SECONDS", 300, 1, 86400),
		authFailuresPerIp: whole(env, "ORRERY_AUTH_FAILURES_PER_IP", 50, 1, 1_000_000),
		authFailuresPerToken: whole(env, "ORRERY_AUTH_FAILURES_PER_TOKEN", 10, 1, 1_000_000),
		tokenManagementSecret: env.ORRERY_TOKEN_MANAGEMENT_SECRET || undefined,
	};
}

function list(raw: string | undefined, fallback: string[]): string[] {
	if (raw === undefined || raw.trim() === "") return [...fallback];
	return raw
		.split(/[\s,]+/)
		.map((s) => s.trim())
		.filter(Boolean);
}

function whole(env: Env, name: string, fallback: number, min: number, max: number): number {
	const raw = env[name];
	if (raw === undefined || raw === "") return fallback;
	const n = Number(raw);
	if (!Number.isInteger(n) || n < min || n > max) {
		throw new AppError("validation_failed", `${name}=${raw} is not valid: use a whole number from ${min} to ${max}`);
	}
	return n;
}
