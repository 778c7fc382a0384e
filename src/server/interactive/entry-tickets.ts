// Entry tickets: how a browser that holds a credential on the server's own origin enters a session on
// the sessions origin (ORRERY_SESSIONS_URL) without the credential ever reaching it.
import { createHash, randomBytes } from "node:crypto";
import { mkdir, readdir, rm, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { AppError, type Clock } from "../../common/index.js";
import type { SecretBox } from "../../secrets/index.js";
import type { CredentialRef } from "./session-grant.js";

/** How long an entry ticket lets its holder in: enough to follow a link, too short to be worth stealing. */
export const entryTicketSeconds = 60;

/**
 * Tickets are sealed with a key of their own (derived from the server's): a user's secret, sealed with
 * the server's key and readable in the database, can never pass for a ticket.
 */
const ticketPurpose = "interactive session entry tickets";

/** How far the clocks of the servers that issue and redeem tickets may be apart. */
const maxClockSkewSeconds = 300;

/** What a ticket says: for which session, whose, shown with which credential, until when. */
export interface EntryTicketGrant {
	sessionId: string;
	userId: string;
	credential: CredentialRef;
}

/** The sealed contents; `p` keeps other sealed values of the server's key from passing for a ticket. */
interface TicketBody {
	p: "session-entry";
	s: string;
	u: string;
	c: CredentialRef;
	/** Expiry, ms since the epoch. */
	e: number;
	/** A random part: every ticket is different, so each can be used once. */
	n: string;
}

const again = "open the session again from the web UI or with 'orrery open'";

/**
 * A ticket for one session and one user, good once within `entryTicketSeconds`. It is sealed with the
 * server's key (ORRERY_SECRET_KEY, which replicas share), so any server process may issue it and the
 * session's own host redeem it; nothing is stored until it is used.
 */
export function issueEntryTicket(box: SecretBox, clock: Clock, grant: EntryTicketGrant): string {
	const body: TicketBody = {
		p: "session-entry",
		s: grant.sessionId,
		u: grant.userId,
		c: grant.credential,
		e: clock.now().getTime() + entryTicketSeconds * 1000,
		n: randomBytes(16).toString("base64url"),
	};
	return box.derive(ticketPurpose).seal(JSON.stringify(body));
}

/** The address on the sessions origin that exchanges a ticket for the session's cookie, then goes on to `next`. */
export function entryPath(sessionId: string, ticket: string, next?: string): string {
	const query = new URLSearchParams({ ticket, ...(next ? { next } : {}) });
	return `/sessions/${sessionId}/enter?${query}`;
}

/**
 * Checks a ticket shown at `sessionId`'s entry and marks it used: its hash is written, exclusively, into
 * the session's folder (`folder`), so a second use fails even at another server process of the host.
 * A ticket that is not one, is for another session, has expired or was used is `forbidden`.
 */
export async function redeemEntryTicket(
	box: SecretBox,
	clock: Clock,
	sessionId: string,
	ticket: string,
	folder: string,
): Promise<EntryTicketGrant> {
	let body: Partial<TicketBody> | undefined;
	try {
		body = JSON.parse(box.derive(ticketPurpose).open(ticket)) as Partial<TicketBody>;
	} catch {
		body = undefined;
	}
	if (body?.p !== "session-entry" || typeof body.s !== "string" || typeof body.u !== "string" || !body.c)
		throw new AppError("forbidden", `this entry link is not valid; ${again}`);
	if (body.s !== sessionId) throw new AppError("forbidden", `this entry link is for another session; ${again}`);
	const now = clock.now().getTime();
	// No ticket lasts longer than its issuer gives (with room for clocks a few minutes apart).
	if (typeof body.e !== "number" || body.e <= now || body.e > now + (entryTicketSeconds + maxClockSkewSeconds) * 1000)
		throw new AppError("forbidden", `this entry link has expired (it lasts ${entryTicketSeconds} s); ${again}`);
	if (typeof body.n !== "string" || body.n.length < 16)
		throw new AppError("forbidden", `this entry link is not valid; ${again}`);
	const used = join(folder, "entry-tickets");
	await mkdir(used, { recursive: true, mode: 0o700 });
	// The ticket's random part, which its seal authenticates, marks it used: the same ticket written
	// another way (padding, spare bits, an extra segment the decoder ignores) is the same ticket.
	const hash = createHash("sha256").update(`${sessionId}\0${body.n}`).digest("hex");
	try {
		await writeFile(join(used, hash), "", { flag: "wx", mode: 0o600 });
	} catch (error) {
		if ((error as NodeJS.ErrnoException).code === "EEXIST")
			throw new AppError("forbidden", `this entry link was already used; ${again}`);
		throw error;
	}
	await forgetOldTickets(used);
	return { sessionId, userId: body.u, credential: body.c };
}

/**
 * Used tickets are remembered well past the longest a ticket can be accepted (its life and the clock
 * skew allowed), then forgotten: an expired one is refused anyway.
 */
async function forgetOldTickets(folder: string): Promise<void> {
	const before = Date.now() - 2 * (entryTicketSeconds + maxClockSkewSeconds) * 1000;
	for (const name of await readdir(folder)) {
		const path = join(folder, name);
		const info = await stat(path).catch(() => undefined);
		if (info && info.mtimeMs < before) await rm(path, { force: true });
	}
}
