// Entering a session with a ticket: the hand-over at the server's own host name (a link's token becomes a
// ticket for the sessions' host name) and the entry there (a ticket becomes the session's cookie).
import type { FastifyReply, FastifyRequest } from "fastify";
import type { Principal } from "../../auth/index.js";
import { AppError, isAppError } from "../../common/index.js";
import type { ServerContext } from "../server-context.js";
import { entryPath, issueEntryTicket, redeemEntryTicket } from "./entry-tickets.js";
import type { SessionUpstream } from "./interactive-sessions.js";
import { sessionBase } from "./jupyter-process.js";
import { type CookieGrant, type CredentialRef, credentialRefOf } from "./session-grant.js";

/** The statuses of refusals at a session's address (a run one may not run is as refused as a wrong credential). */
const errorStatus: Partial<Record<string, number>> = {
	unauthenticated: 401,
	forbidden: 403,
	not_found: 403,
	rate_limited: 429,
};

/** Answers a session request with a one-line message. */
export function refuse(reply: FastifyReply, status: number, message: string): FastifyReply {
	return reply.code(status).send({ message });
}

/** Refuses with an error's own status and message (a rate limit with its Retry-After); rethrows a bug. */
export async function refuseError(reply: FastifyReply, error: unknown): Promise<void> {
	if (!isAppError(error)) throw error;
	if (error.code === "rate_limited") {
		const after = (error.details as { retry_after_seconds?: number } | undefined)?.retry_after_seconds;
		if (after) reply.header("retry-after", String(after));
	}
	await refuse(reply, errorStatus[error.code] ?? 403, error.message);
}

/** A browser's plain visit: a GET or HEAD that is no WebSocket. */
export function isNavigation(request: FastifyRequest): boolean {
	return (request.method === "GET" || request.method === "HEAD") && !request.headers.upgrade;
}

/** Another site sent the browser here (a link it made, a form): Sec-Fetch-Site says so. */
export function isFromAnotherSite(request: FastifyRequest): boolean {
	const site = request.headers["sec-fetch-site"];
	return site === "cross-site" || site === "same-site";
}

/** Why a link another site sent the browser along is refused. */
export const fromAnotherSite =
	"another site sent this browser into an interactive session; open the session's link yourself (paste it into the address bar) or from the Orrery web UI";

/** What the entries need of the session proxy: its authentication and permission checks, and its cookie. */
export interface SessionEntryDeps {
	/** The principal of a credential shown, with the API's rate limit and audit of failures. */
	authenticate(request: FastifyRequest, credential: string): Promise<Principal>;
	/** The cookie grant of a user who showed `credential`, when they may use the run's session; else throws. */
	admit(principal: Principal, credential: CredentialRef, workflowId: string): Promise<CookieGrant>;
	/** A user who entered a session, as a principal; undefined when the account is gone. */
	principalOf(userId: string): Promise<Principal | undefined>;
	/** Sets the session's cookie. */
	giveCookie(reply: FastifyReply, id: string, upstream: SessionUpstream, grant: CookieGrant): void;
}

/** A path within the session's own address, normalised (no `..` out of it), or undefined. */
function withinSession(id: string, target: string | null | undefined): string | undefined {
	if (!target?.startsWith("/")) return undefined;
	const url = new URL(target, "http://orrery.invalid");
	return url.origin === "http://orrery.invalid" && url.pathname.startsWith(sessionBase(id))
		? `${url.pathname}${url.search}`
		: undefined;
}

/** The hand-over (server's own host name) and the entry (sessions' host name) of ticket-borne entry. */
export function sessionEntries(ctx: ServerContext, deps: SessionEntryDeps) {
	/**
	 * `/sessions/<id>/…` at the server's own host name while sessions have one of their own: a link with a
	 * token (`orrery open`, `reana-client open`) is exchanged for a single-use ticket and the browser sent
	 * on to the sessions' host name with it; the token itself never goes there. Anything else: 404.
	 */
	const handOver = async (
		request: FastifyRequest,
		reply: FastifyReply,
		id: string | undefined,
		sessionsUrl: string,
	): Promise<void> => {
		const url = new URL(request.url, "http://orrery.invalid");
		const credential = url.searchParams.get("token") ?? url.searchParams.get("access_token");
		if (!id || !credential || !isNavigation(request)) {
			await refuse(
				reply,
				404,
				`interactive sessions are served at ${sessionsUrl}; open one from the web UI, or follow the link 'orrery open' prints`,
			);
			return;
		}
		const workflowId = ctx.config.interactiveSessions === "off" ? undefined : await ctx.interactive.runOf(id);
		if (!workflowId) {
			await refuse(reply, 404, "no interactive session is open at this address; open one with 'orrery open -w RUN'");
			return;
		}
		if (isFromAnotherSite(request)) {
			await refuse(reply, 403, fromAnotherSite);
			return;
		}
		let ticket: string;
		try {
			const principal = await deps.authenticate(request, credential);
			const grant = await deps.admit(principal, credentialRefOf(principal), workflowId);
			ticket = issueEntryTicket(ctx.secretBox, ctx.clock, {
				sessionId: id,
				userId: grant.userId,
				credential: grant.credential,
			});
		} catch (error) {
			await refuseError(reply, error);
			return;
		}
		url.searchParams.delete("token");
		url.searchParams.delete("access_token");
		const next = withinSession(id, `${url.pathname}${url.search}`);
		reply.header("referrer-policy", "no-referrer").header("cache-control", "no-store");
		await reply.redirect(`${sessionsUrl}${entryPath(id, ticket, next === sessionBase(id) ? undefined : next)}`, 302);
	};

	/** `/sessions/<id>/enter?ticket=…`: a single-use ticket is exchanged for the session's cookie, then on to the session. */
	const redeem = async (
		request: FastifyRequest,
		reply: FastifyReply,
		id: string,
		upstream: SessionUpstream,
	): Promise<void> => {
		const url = new URL(request.url, "http://orrery.invalid");
		const ticket = url.searchParams.get("ticket");
		if (!isNavigation(request)) {
			await refuse(reply, 404, "an entry link is opened in a browser, nothing else");
			return;
		}
		if (!ticket) {
			await refuse(reply, 401, "this entry link has no ticket; open the session from the web UI or with 'orrery open'");
			return;
		}
		// On the UI's own origin (no ORRERY_SESSIONS_URL) a session page runs with the UI's origin: another
		// site must not send a browser into a session there, with anyone's ticket (the UI's link is same-site).
		if (!ctx.config.sessionsUrl && isFromAnotherSite(request)) {
			await refuse(reply, 403, fromAnotherSite);
			return;
		}
		try {
			const entry = await redeemEntryTicket(ctx.secretBox, ctx.clock, id, ticket, ctx.interactive.folderOf(id));
			const principal = await deps.principalOf(entry.userId);
			if (!principal) throw new AppError("forbidden", "the account this entry link was made for is gone");
			deps.giveCookie(reply, id, upstream, await deps.admit(principal, entry.credential, upstream.workflowId));
		} catch (error) {
			await refuseError(reply, error);
			return;
		}
		// On to the session, within its own address only; the ticket stays behind (and is spent anyway).
		reply.header("referrer-policy", "no-referrer").header("cache-control", "no-store");
		await reply.redirect(withinSession(id, url.searchParams.get("next")) ?? sessionBase(id), 302);
	};

	return { handOver, redeem };
}
