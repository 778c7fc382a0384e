import { randomBytes, timingSafeEqual } from "node:crypto";
import { AppError, type Clock, isoNow, newId } from "../common/index.js";
import {
	type Db,
	findSessionByHash,
	insertSession,
	listGroupIdsOfUser,
	type SessionRow,
	touchSession,
	type UserRow,
} from "../db/index.js";
import { hashToken, type Principal } from "./access-tokens.js";
import { personScopes } from "./provider-login.js";

/** Every web session value starts with this (and never with a token's `orr_`). */
export const sessionPrefix = "orrs_";

/** True when a credential value is a web session rather than a token. */
export function isSessionValue(value: string): boolean {
	return value.startsWith(sessionPrefix);
}

/** Creates a web session for a user; the value (for the cookie) is returned once and only its hash is stored. */
export async function createWebSession(
	db: Db,
	user: UserRow,
	hours: number,
	clock: Clock,
): Promise<{ value: string; row: SessionRow }> {
	const value = `${sessionPrefix}${randomBytes(32).toString("base64url")}`;
	const now = clock.now();
	const row: SessionRow = {
		id: newId(),
		hash: hashToken(value),
		user_id: user.id,
		created_at: isoNow(clock),
		expires_at: new Date(now.getTime() + hours * 3600_000).toISOString(),
		last_seen_at: null,
		revoked_at: null,
	};
	await insertSession(db, row);
	return { value, row };
}

const touched = new Map<string, number>();

/** The principal of a web session; an unknown, ended or expired session is `forbidden`. */
export async function authenticateWebSession(db: Db, value: string, clock: Clock): Promise<Principal> {
	const hash = hashToken(value);
	const found = await findSessionByHash(db, hash);
	if (!found || !timingSafeEqual(Buffer.from(found.session.hash, "hex"), Buffer.from(hash, "hex"))) {
		throw new AppError("forbidden", "the session is not valid; sign in again");
	}
	const { session, user } = found;
	const now = clock.now();
	if (session.revoked_at) throw new AppError("forbidden", "the session has ended (signed out); sign in again");
	if (Date.parse(session.expires_at) <= now.getTime()) {
		throw new AppError("forbidden", `the session expired at ${session.expires_at}; sign in again`);
	}
	const last = touched.get(session.id) ?? 0;
	if (now.getTime() - last > 60_000) {
		if (touched.size > 10_000) touched.clear();
		touched.set(session.id, now.getTime());
		await touchSession(db, session.id, now.toISOString());
	}
	return {
		user,
		scopes: personScopes(user),
		tokenId: null,
		sessionId: session.id,
		groupIds: await listGroupIdsOfUser(db, user.id),
		via: "session",
	};
}
