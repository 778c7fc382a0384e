import { AppError, type Clock, isoNow, newId } from "../common/index.js";
import type { OidcConfig } from "../config/index.js";
import {
	type Db,
	ensureGroups,
	findUserByEmail,
	findUserByIdentity,
	insertIdentity,
	listGroupIdsOfUser,
	replaceMemberships,
	touchIdentity,
	type UserRow,
	updateUserProfile,
} from "../db/index.js";
import type { Principal, Scope } from "./access-tokens.js";
import type { OidcProvider } from "./oidc-provider.js";
import { createUser } from "./users.js";

/** The outcome of a login at the provider: the user (created on first login) and the groups now stored. */
export interface ProviderLogin {
	user: UserRow;
	groups: string[];
	isNewUser: boolean;
}

/** The values of the configured group claims (arrays or single strings), merged and deduplicated. */
export function groupsFromClaims(claims: Record<string, unknown>, claimNames: readonly string[]): string[] {
	const out = new Set<string>();
	for (const name of claimNames) {
		const v = claims[name];
		const values = Array.isArray(v) ? v : v === undefined || v === null ? [] : [v];
		for (const g of values) if (typeof g === "string" && g.trim() !== "") out.add(g.trim());
	}
	return [...out];
}

/**
 * Signs a person in from their verified ID token claims: finds the user by (issuer, sub), else links an
 * existing user with the same verified email, else creates one; then stores the groups of this login and,
 * when admin groups are configured, sets the role from them.
 */
export async function loginWithClaims(
	db: Db,
	config: OidcConfig,
	claims: Record<string, unknown>,
	clock: Clock,
): Promise<ProviderLogin> {
	const at = isoNow(clock);
	const sub = String(claims.sub);
	const email = typeof claims.email === "string" ? claims.email.trim().toLowerCase() : undefined;
	const name = typeof claims.name === "string" ? claims.name : undefined;
	const groups = groupsFromClaims(claims, config.groupClaims);
	let user = await findUserByIdentity(db, config.issuer, sub);
	let isNewUser = false;
	if (user) {
		const patch: Parameters<typeof updateUserProfile>[2] = {};
		if (name && name !== user.full_name) patch.full_name = name;
		if (email && email !== user.email && !(await findUserByEmail(db, email))) patch.email = email;
		await updateUserProfile(db, user.id, patch);
		await touchIdentity(db, config.issuer, sub, at);
		user = { ...user, ...patch };
	} else {
		if (!email) {
			throw new AppError(
				"forbidden",
				"the identity provider sent no email address for this login; the server must ask for the 'email' scope (ORRERY_OIDC_SCOPES)",
			);
		}
		const existing = await findUserByEmail(db, email);
		if (existing && claims.email_verified === false) {
			throw new AppError(
				"forbidden",
				`the provider has not verified the email ${email}, which belongs to an existing account; verify it at the provider first`,
			);
		}
		user = existing ?? (await createUser(db, { email, fullName: name ?? null }, clock));
		isNewUser = !existing;
		await insertIdentity(db, {
			id: newId(),
			issuer: config.issuer,
			subject: sub,
			user_id: user.id,
			created_at: at,
			last_login_at: at,
		});
	}
	const rows = await ensureGroups(db, groups, at);
	await replaceMemberships(
		db,
		user.id,
		rows.map((g) => g.id),
		at,
	);
	if (config.adminGroups.length > 0) {
		const role = groups.some((g) => config.adminGroups.includes(g)) ? "admin" : "user";
		if (role !== user.role) {
			await updateUserProfile(db, user.id, { role });
			user = { ...user, role };
		}
	}
	return { user, groups, isNewUser };
}

/** The scopes a person's interactive credential (web session, provider token) carries. */
export function personScopes(user: UserRow): Scope[] {
	return user.role === "admin" ? ["read", "write", "run", "admin"] : ["read", "write", "run"];
}

function scopesOfProviderToken(claims: Record<string, unknown>, config: OidcConfig, user: UserRow): Scope[] {
	if (config.apiScopePrefix === "") return personScopes(user);
	const granted = typeof claims.scope === "string" ? claims.scope.split(" ") : [];
	const out: Scope[] = [];
	for (const s of ["read", "write", "run", "admin"] as const) {
		if (granted.includes(`${config.apiScopePrefix}${s}`) && (s !== "admin" || user.role === "admin")) out.push(s);
	}
	return out;
}

/**
 * The principal of a provider-issued JWT access token (signature against the provider's keys, issuer,
 * audience, expiry). The person must be known (logged in once), unless the token carries an email.
 */
export async function authenticateProviderToken(
	db: Db,
	provider: OidcProvider,
	token: string,
	clock: Clock,
): Promise<Principal> {
	const { audience, issuer } = provider.config;
	if (!audience) throw new AppError("forbidden", "the access token is not valid; check ORRERY_ACCESS_TOKEN");
	const claims = await provider.verify(token, { audience, what: "provider access token" });
	let user = await findUserByIdentity(db, issuer, String(claims.sub));
	if (!user) {
		if (typeof claims.email !== "string") {
			throw new AppError(
				"forbidden",
				"the provider access token is valid, but its person has never logged in here; log in once with 'orrery login' or the web UI",
			);
		}
		user = (await loginWithClaims(db, { ...provider.config, groupClaims: [], adminGroups: [] }, claims, clock)).user;
	}
	return {
		user,
		scopes: scopesOfProviderToken(claims, provider.config, user),
		tokenId: null,
		sessionId: null,
		groupIds: await listGroupIdsOfUser(db, user.id),
		via: "provider",
	};
}
