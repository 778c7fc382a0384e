// The cookie that lets a browser into one interactive session: what it grants, signed with the session's token.
import { createHmac, timingSafeEqual } from "node:crypto";
import type { Principal } from "../../auth/index.js";
import { findSessionById, findToken } from "../../db/index.js";
import type { ServerContext } from "../server-context.js";
import type { SessionUpstream } from "./interactive-sessions.js";

/** The cookie that lets a browser into one session once it has shown a credential for it. */
export function cookieName(sessionId: string): string {
	return `orrery_nb_${sessionId}`;
}

/** How long the cookie lets its user in at most; never beyond the credential it was given for. */
export const cookieSeconds = 7 * 24 * 3600;
/** For a credential Orrery does not store (a provider's token): its expiry is not known here. */
export const unstoredCredentialSeconds = 3600;

/**
 * What a cookie was given for: `t<id>` an access token, `s<id>` a web login, `x` a credential that
 * is not stored (checked only when shown).
 */
export type CredentialRef = string;

export function credentialRefOf(principal: Principal): CredentialRef {
	if (principal.tokenId) return `t${principal.tokenId}`;
	if (principal.sessionId) return `s${principal.sessionId}`;
	return "x";
}

/** The cookie's contents: who entered, with which credential, until when. */
export interface CookieGrant {
	userId: string;
	credential: CredentialRef;
	expires: number;
}

/**
 * The cookie's value: who entered, the credential they showed and until when, signed with the
 * session's own token (so it dies with the session and outlives a server restart). Whether that user
 * may still run the run, and whether the credential still holds (not revoked, not expired, not signed
 * out), is checked again (at most every 30 s), so a withdrawn share, a revoked token or a deleted
 * account ends access.
 */
export function signedCookie(upstream: SessionUpstream, sessionId: string, grant: CookieGrant): string {
	return `${grant.userId}.${grant.credential}.${grant.expires}.${mac(upstream, sessionId, grant)}`;
}

function mac(upstream: SessionUpstream, sessionId: string, grant: CookieGrant): string {
	return createHmac("sha256", upstream.token)
		.update(`${sessionId}.${grant.userId}.${grant.credential}.${grant.expires}`)
		.digest("base64url");
}

/** What a session cookie grants, when its signature holds and it has not expired. */
export function cookieGrant(
	value: string | undefined,
	upstream: SessionUpstream,
	sessionId: string,
): CookieGrant | undefined {
	const m = /^([0-9a-f-]{36})\.([ts][0-9a-f-]{36}|x)\.(\d+)\.([A-Za-z0-9_-]+)$/.exec(value ?? "");
	if (!m) return undefined;
	const [, userId, credential, expiresText, given] = m as unknown as [string, string, string, string, string];
	const grant = { userId, credential, expires: Number(expiresText) };
	if (grant.expires * 1000 < Date.now()) return undefined;
	const expected = Buffer.from(mac(upstream, sessionId, grant));
	const actual = Buffer.from(given);
	return expected.length === actual.length && timingSafeEqual(expected, actual) ? grant : undefined;
}

/** Until when a credential holds (ms since the epoch; Infinity: no end), or undefined when it no longer does. */
export async function credentialEnd(ctx: ServerContext, credential: CredentialRef): Promise<number | undefined> {
	const now = ctx.clock.now().getTime();
	if (credential.startsWith("t")) {
		const token = await findToken(ctx.db, credential.slice(1));
		if (!token || token.revoked_at) return undefined;
		const end = token.expires_at ? Date.parse(token.expires_at) : Number.POSITIVE_INFINITY;
		return end > now ? end : undefined;
	}
	if (credential.startsWith("s")) {
		const session = await findSessionById(ctx.db, credential.slice(1));
		if (!session || session.revoked_at) return undefined;
		const end = Date.parse(session.expires_at);
		return end > now ? end : undefined;
	}
	return Number.POSITIVE_INFINITY;
}

/**
 * The grant of a user who showed a credential (`ref`) for a session: until the credential ends, a week at
 * most (an hour for a credential Orrery does not store); undefined when the credential no longer holds.
 */
export async function grantFor(
	ctx: ServerContext,
	userId: string,
	credential: CredentialRef,
): Promise<CookieGrant | undefined> {
	const end = await credentialEnd(ctx, credential);
	if (end === undefined) return undefined;
	const until = Math.min(end, Date.now() + 1000 * (credential === "x" ? unstoredCredentialSeconds : cookieSeconds));
	return { userId, credential, expires: Math.floor(until / 1000) };
}
