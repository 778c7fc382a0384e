import { createHmac, timingSafeEqual } from "node:crypto";
import httpProxy from "@fastify/http-proxy";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { type Principal, tokenScopes } from "../../auth/index.js";
import { isAppError } from "../../common/index.js";
import { findUserById, listGroupIdsOfUser } from "../../db/index.js";
import { credentialOf, principalFor } from "../auth-hook.js";
import { findAccessibleRun } from "../routes/shared-runs.js";
import type { ServerContext } from "../server-context.js";
import { clearCookie, cookieOf, isSameOrigin, sessionCookie, setCookie } from "../session-cookies.js";
import type { SessionUpstream } from "./interactive-sessions.js";
import { sessionBase } from "./jupyter-process.js";

declare module "fastify" {
	interface FastifyRequest {
		sessionUpstream?: SessionUpstream;
	}
}

/** The cookie that lets a browser into one session once it has shown a credential for it. */
function cookieName(sessionId: string): string {
	return `orrery_nb_${sessionId}`;
}

/** How long the cookie lets its user in, and how long an access check of it is trusted. */
const cookieSeconds = 7 * 24 * 3600;

/**
 * The cookie's value: who entered and until when, signed with the session's own token (so it dies
 * with the session and outlives a server restart). Whether that user may still run the run is
 * checked again (at most every 30 s), so a withdrawn share or a deleted account ends access.
 */
function signedCookie(upstream: SessionUpstream, sessionId: string, userId: string, expires: number): string {
	return `${userId}.${expires}.${mac(upstream, sessionId, userId, expires)}`;
}

function mac(upstream: SessionUpstream, sessionId: string, userId: string, expires: number): string {
	return createHmac("sha256", upstream.token).update(`${sessionId}.${userId}.${expires}`).digest("base64url");
}

/** The user a session cookie names, when its signature holds and it has not expired. */
function cookieUser(value: string | undefined, upstream: SessionUpstream, sessionId: string): string | undefined {
	const m = /^([0-9a-f-]{36})\.(\d+)\.([A-Za-z0-9_-]+)$/.exec(value ?? "");
	if (!m) return undefined;
	const [, userId, expiresText, given] = m as unknown as [string, string, string, string];
	const expires = Number(expiresText);
	if (expires * 1000 < Date.now()) return undefined;
	const expected = Buffer.from(mac(upstream, sessionId, userId, expires));
	const actual = Buffer.from(given);
	return expected.length === actual.length && timingSafeEqual(expected, actual) ? userId : undefined;
}

const unsafeMethods = new Set(["POST", "PUT", "PATCH", "DELETE"]);

/**
 * Serves each run's interactive session at `/sessions/<id>/…`: HTTP and WebSockets (the kernels'
 * channels) go to the session's Jupyter server on the loopback interface, with the session's own
 * token added, so Jupyter never sees a user's credential. Who may enter: a user the run is open to
 * for running it (its owner, or a share that allows it), known by the `token` of the link that
 * `reana-client open` and `orrery open` print (an Orrery access token), by a Bearer token, or by the
 * web UI's session cookie. The link's token is exchanged at once for a cookie of this session alone,
 * and the browser is sent on to the same address without it. Requests a browser could be made to send
 * by another site (a cookie, and a change or a WebSocket) must come from this server's own pages.
 */
export async function sessionProxy(app: FastifyInstance, ctx: ServerContext): Promise<void> {
	const checked = new Map<string, number>();
	/** Whether this user may still run the session's run (checked at most every 30 s). */
	const mayEnter = async (sessionId: string, upstream: SessionUpstream, userId: string): Promise<boolean> => {
		const key = `${sessionId}:${userId}`;
		if (Date.now() - (checked.get(key) ?? 0) < (ctx.config.sessionAccessRecheckMs ?? 30_000)) return true;
		const user = await findUserById(ctx.db, userId);
		if (!user) return false;
		const principal: Principal = {
			user,
			scopes: tokenScopes,
			tokenId: null,
			sessionId: null,
			groupIds: await listGroupIdsOfUser(ctx.db, user.id),
			via: "session",
		};
		try {
			await findAccessibleRun(ctx, principal, upstream.workflowId, "workflow.run");
		} catch (error) {
			if (isAppError(error)) return false;
			throw error;
		}
		checked.set(key, Date.now());
		return true;
	};
	const refuse = (reply: FastifyReply, status: number, message: string) => reply.code(status).send({ message });

	const enter = async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
		const id = /^\/sessions\/([0-9a-f-]{36})(?:\/|$|\?)/.exec(request.url)?.[1];
		const found = id && ctx.config.interactiveSessions !== "off" ? await ctx.interactive.upstream(id) : undefined;
		if (!id || !found) {
			await refuse(reply, 404, "no interactive session is open at this address; open one with 'orrery open -w RUN'");
			return;
		}
		if ("elsewhere" in found) {
			await refuse(reply, 503, `this session runs on ${found.elsewhere}; reach it through the Orrery server there`);
			return;
		}
		const upstream = found;
		const url = new URL(request.url, "http://orrery.invalid");
		const linkToken = url.searchParams.get("token");
		const isCrossSiteRisk =
			(unsafeMethods.has(request.method) || request.headers.upgrade !== undefined) &&
			!isSameOrigin(request, ctx.config.publicUrl);
		const cookie = cookieOf(request, cookieName(id));
		const cookieUserId = linkToken ? undefined : cookieUser(cookie, upstream, id);
		if (cookieUserId) {
			if (isCrossSiteRisk) {
				await refuse(reply, 403, "a request with the session's cookie came from another site");
				return;
			}
			if (!(await mayEnter(id, upstream, cookieUserId))) {
				clearCookie(reply, cookieName(id), sessionBase(id), isSecure);
				await refuse(reply, 403, "you may no longer use this session: the run is not open to you for running it");
				return;
			}
			request.sessionUpstream = upstream;
			return;
		}
		const explicit = linkToken ?? credentialOf(request.query, request.headers.authorization);
		const webLogin = explicit ? undefined : cookieOf(request, sessionCookie);
		const credential = explicit ?? webLogin;
		if (!credential) {
			await refuse(reply, 401, "open this session through its link (printed by 'orrery open' or 'reana-client open')");
			return;
		}
		if (webLogin && isCrossSiteRisk) {
			await refuse(reply, 403, "a request with the login cookie came from another site");
			return;
		}
		let userId: string;
		try {
			const principal = await principalFor(ctx, credential);
			await findAccessibleRun(ctx, principal, upstream.workflowId, "workflow.run");
			userId = principal.user.id;
		} catch (error) {
			if (!isAppError(error)) throw error;
			await refuse(reply, errorStatus[error.code] ?? 403, error.message);
			return;
		}
		checked.set(`${id}:${userId}`, Date.now());
		const expires = Math.floor(Date.now() / 1000) + cookieSeconds;
		setCookie(reply, cookieName(id), signedCookie(upstream, id, userId, expires), {
			path: sessionBase(id),
			maxAgeSeconds: cookieSeconds,
			isSecure,
		});
		if (linkToken && (request.method === "GET" || request.method === "HEAD") && !request.headers.upgrade) {
			// On, without the token, and only within the session's own address.
			url.searchParams.delete("token");
			const target = url.pathname.startsWith(sessionBase(id)) ? `${url.pathname}${url.search}` : sessionBase(id);
			await reply.redirect(target, 302);
			return;
		}
		request.sessionUpstream = upstream;
	};
	const isSecure = ctx.config.publicUrl?.startsWith("https:") === true;
	// `rewriteRequestHeaders` for WebSockets is documented by @fastify/http-proxy but missing from its types.
	const wsClientOptions: { followRedirects: boolean; rewriteRequestHeaders: WsHeaders } = {
		followRedirects: false,
		rewriteRequestHeaders: (headers, request) => ({
			...headers,
			...jupyterCookies(request.headers.cookie),
			...(request.headers.origin ? { origin: local(request) } : {}),
			authorization: `token ${(request.sessionUpstream as SessionUpstream).token}`,
		}),
	};
	await app.register(httpProxy, {
		upstream: "",
		prefix: "/sessions",
		rewritePrefix: "/sessions",
		websocket: true,
		preHandler: enter,
		replyOptions: {
			getUpstream: (request) => local(request),
			// Jupyter answers requests for its own host only, and checks a browser's Origin against it.
			rewriteRequestHeaders: (request, headers) => ({
				...withoutCookie(headers),
				...jupyterCookies(headers.cookie as string | undefined),
				host: new URL(local(request)).host,
				...(headers.origin ? { origin: local(request) } : {}),
				authorization: `token ${(request.sessionUpstream as SessionUpstream).token}`,
			}),
		},
		wsClientOptions,
	});
}

const errorStatus: Partial<Record<string, number>> = {
	unauthenticated: 401,
	forbidden: 403,
	not_found: 403,
	rate_limited: 429,
};

/** The request's cookies but Orrery's own (its web session, the sessions' cookies): Jupyter gets only its own. */
function jupyterCookies(header: string | undefined): { cookie?: string } {
	const kept = (header ?? "")
		.split(";")
		.map((c) => c.trim())
		.filter((c) => c !== "" && !c.startsWith("orrery_"));
	return kept.length > 0 ? { cookie: kept.join("; ") } : {};
}

function withoutCookie<T extends Record<string, unknown>>(headers: T): Omit<T, "cookie"> {
	const { cookie: _, ...rest } = headers;
	return rest;
}

type WsHeaders = (headers: Record<string, string>, request: FastifyRequest) => Record<string, string>;

/** The session's Jupyter server, on the loopback interface. */
function local(request: { sessionUpstream?: SessionUpstream }): string {
	return `http://127.0.0.1:${(request.sessionUpstream as SessionUpstream).port}`;
}
