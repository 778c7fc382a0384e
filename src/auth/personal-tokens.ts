import { AppError, type Clock, isoNow } from "../common/index.js";
import type { IdentityConfig } from "../config/index.js";
import { type Db, findToken, revokeToken, type TokenRow, type UserRow } from "../db/index.js";
import { issueToken, type Principal, type Scope, tokenScopes } from "./access-tokens.js";
import { can } from "./permissions.js";

/** What a user asks for when creating a personal access token. */
export interface CreateTokenInput {
	name: string;
	scopes?: readonly string[];
	/** Days until expiry; 0 means never (only when the server allows it). Default from the configuration. */
	expiresInDays?: number;
	kind?: TokenRow["kind"];
}

/** Checks requested scopes: known, and none beyond what the creating credential itself has. */
export function checkRequestedScopes(principal: Principal, requested: readonly string[] | undefined): Scope[] {
	const wanted = requested ?? principal.scopes.filter((s) => s !== "admin");
	if (wanted.length === 0) throw new AppError("validation_failed", "a token needs at least one scope");
	for (const s of wanted) {
		if (!(tokenScopes as readonly string[]).includes(s)) {
			throw new AppError("validation_failed", `unknown scope '${s}'; use ${tokenScopes.join(", ")}`);
		}
	}
	const scopes = [...new Set(wanted)] as Scope[];
	if (scopes.includes("admin") && principal.user.role !== "admin") {
		throw new AppError("forbidden", "only administrators can create tokens with the 'admin' scope");
	}
	const beyond = scopes.filter((s) => !principal.scopes.includes(s));
	if (beyond.length > 0) {
		throw new AppError(
			"forbidden",
			`a new token cannot have scopes the credential creating it lacks (${beyond.join(", ")}); this one has ${principal.scopes.join(", ")}`,
		);
	}
	return scopes;
}

/** The expiry of a new token: the default when none is asked for, within the configured maximum. */
export function tokenExpiry(days: number | undefined, config: IdentityConfig, clock: Clock): Date | null {
	const d = days ?? config.tokenDefaultDays;
	if (!Number.isInteger(d) || d < 0)
		throw new AppError("validation_failed", "the expiry must be a whole number of days");
	if (d === 0) {
		if (config.tokenMaxDays > 0) {
			throw new AppError(
				"validation_failed",
				`tokens must expire on this server: ask for at most ${config.tokenMaxDays} days (ORRERY_TOKEN_MAX_DAYS)`,
			);
		}
		return null;
	}
	if (config.tokenMaxDays > 0 && d > config.tokenMaxDays) {
		throw new AppError(
			"validation_failed",
			`a token may last at most ${config.tokenMaxDays} days on this server (ORRERY_TOKEN_MAX_DAYS); ask for fewer`,
		);
	}
	return new Date(clock.now().getTime() + d * 86_400_000);
}

/** Creates a personal access token for the principal's user; the value is returned once. */
export async function createPersonalToken(
	db: Db,
	principal: Principal,
	input: CreateTokenInput,
	config: IdentityConfig,
	clock: Clock,
): Promise<{ value: string; row: TokenRow }> {
	const name = input.name.trim();
	if (name === "" || name.length > 100)
		throw new AppError("validation_failed", "a token needs a name of 1 to 100 characters");
	const scopes = checkRequestedScopes(principal, input.scopes);
	const expiresAt = tokenExpiry(input.expiresInDays, config, clock);
	return issueToken(db, principal.user, { name, scopes, expiresAt, kind: input.kind ?? "personal" }, clock);
}

/** Revokes a token by id or prefix: one's own, or anyone's for an administrator. */
export async function revokeTokenFor(
	db: Db,
	principal: Principal,
	idOrPrefix: string,
	clock: Clock,
): Promise<TokenRow> {
	const token = await findToken(db, idOrPrefix);
	if (!token)
		throw new AppError(
			"not_found",
			`no token with the id or prefix ${idOrPrefix}; list yours with 'orrery token list'`,
		);
	if (token.user_id !== principal.user.id && !can(principal, "admin")) {
		throw new AppError("forbidden", `token ${token.prefix} belongs to another user; only administrators can revoke it`);
	}
	if (!(await revokeToken(db, token.id, isoNow(clock)))) {
		throw new AppError("conflict", `token ${token.prefix} is already revoked`);
	}
	return { ...token, revoked_at: isoNow(clock) };
}

/** The status of a token as listings show it. */
export function tokenStatus(token: TokenRow, now: Date): "active" | "expired" | "revoked" {
	if (token.revoked_at) return "revoked";
	if (token.expires_at && Date.parse(token.expires_at) <= now.getTime()) return "expired";
	return "active";
}

/** The user a token listing is for: oneself, or (administrators) another user or everyone. */
export function tokenListingScope(principal: Principal, user: UserRow | undefined, all: boolean): string | undefined {
	if ((user && user.id !== principal.user.id) || all) {
		if (!can(principal, "admin")) {
			throw new AppError("forbidden", "only administrators can list the tokens of other users");
		}
		return all ? undefined : user?.id;
	}
	return principal.user.id;
}
