import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { AppError, type Clock, isoNow, newId } from "../common/index.js";
import {
	type Db,
	findTokenByHash,
	insertToken,
	listGroupIdsOfUser,
	type TokenRow,
	touchToken,
	type UserRow,
} from "../db/index.js";

/** What a token may do. */
export const tokenScopes = ["read", "write", "run", "admin"] as const;
/** One permission scope of a token. */
export type Scope = (typeof tokenScopes)[number];

/** Every token starts with this, so a leaked one is recognisable (and scannable). */
export const tokenPrefix = "orr_";

const alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/** A new random token value: `orr_` and 43 base-62 characters (256 bits). */
export function generateTokenValue(): string {
	const bytes = randomBytes(43);
	let out = tokenPrefix;
	for (const b of bytes) out += alphabet[b % 62];
	return out;
}

/** The stored form of a token: its SHA-256, hex. Tokens are random, so no salt or slow hash is needed. */
export function hashToken(value: string): string {
	return createHash("sha256").update(value, "utf8").digest("hex");
}

/** Options for issuing a token. */
export interface IssueTokenOptions {
	name: string;
	scopes: readonly Scope[];
	expiresAt: Date | null;
	/** `login` for the token `orrery login` stores; default `personal`. */
	kind?: TokenRow["kind"];
}

/** Issues a token for a user; the value is returned once and never stored. */
export async function issueToken(
	db: Db,
	user: UserRow,
	options: IssueTokenOptions,
	clock: Clock,
): Promise<{ value: string; row: TokenRow }> {
	const value = generateTokenValue();
	const row: TokenRow = {
		id: newId(),
		user_id: user.id,
		name: options.name,
		prefix: visiblePrefix(value),
		hash: hashToken(value),
		scopes: JSON.stringify(options.scopes),
		created_at: isoNow(clock),
		expires_at: options.expiresAt?.toISOString() ?? null,
		last_used_at: null,
		revoked_at: null,
		kind: options.kind ?? "personal",
	};
	await insertToken(db, row);
	return { value, row };
}

/** How a request proved who it is. */
export type CredentialKind = "token" | "session" | "provider" | "embedded" | "management";

/** Who is making a request, and what their credential lets them do. */
export interface Principal {
	user: UserRow;
	scopes: readonly Scope[];
	/** The token used, or null for credentials that are not stored tokens (sessions, provider tokens, embedded). */
	tokenId: string | null;
	/** The web session used, or null. */
	sessionId: string | null;
	/** The groups the user belongs to (ids), through which group shares reach them. */
	groupIds: readonly string[];
	/** Which kind of credential this is. */
	via: CredentialKind;
}

/** The prefix of a token value that may be shown, logged and used to find it again (`orr_` and 8 characters). */
export function visiblePrefix(value: string): string {
	return value.slice(0, tokenPrefix.length + 8);
}

const touched = new Map<string, number>();

/** Finds the principal for a token value; an unknown, expired or revoked token is `forbidden` (as REANA answers). */
export async function authenticateToken(db: Db, value: string, clock: Clock): Promise<Principal> {
	const hash = hashToken(value);
	const found = await findTokenByHash(db, hash);
	// The lookup is by hash; compare again in constant time so the answer's timing says nothing about the value.
	if (!found || !timingSafeEqual(Buffer.from(found.token.hash, "hex"), Buffer.from(hash, "hex"))) {
		throw new AppError("forbidden", "the access token is not valid; check ORRERY_ACCESS_TOKEN (or REANA_ACCESS_TOKEN)");
	}
	const { token, user } = found;
	const now = clock.now();
	if (token.revoked_at) throw new AppError("forbidden", "the access token was revoked; ask for a new one");
	if (token.expires_at && Date.parse(token.expires_at) <= now.getTime()) {
		throw new AppError("forbidden", `the access token expired at ${token.expires_at}; create a new one`);
	}
	const last = touched.get(token.id) ?? 0;
	if (now.getTime() - last > 60_000) {
		if (touched.size > 10_000) touched.clear();
		touched.set(token.id, now.getTime());
		await touchToken(db, token.id, now.toISOString());
	}
	return {
		user,
		scopes: JSON.parse(token.scopes) as Scope[],
		tokenId: token.id,
		sessionId: null,
		groupIds: await listGroupIdsOfUser(db, user.id),
		via: "token",
	};
}
