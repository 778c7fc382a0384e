import { createHmac, timingSafeEqual } from "node:crypto";
import httpProxy from "@fastify/http-proxy";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { type Principal, tokenScopes } from "../../auth/index.js";
import { AppError, isAppError } from "../../common/index.js";
import { findSessionById, findToken, findUserById, listGroupIdsOfUser } from "../../db/index.js";
import { auditCredential, credentialKey, credentialOf, principalFor } from "../auth-hook.js";
import { identityServices } from "../identity-services.js";
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

/** How long the cookie lets its user in at most; never beyond the credential it was given for. */
const cookieSeconds = 7 * 24 * 3600;
/** For a credential Orrery does not store (a provider's token): its expiry is not known here. */
const unstoredCredentialSeconds = 3600;

/**
 * What a cookie was given for: `t<id>` an access token, `s<id>` a web login, `x` a credential that
 * is not stored (checked only when shown).
 */
type CredentialRef = string;

function credentialRefOf(principal: Principal): CredentialRef {
	if (principal.tokenId) return `t${principal.tokenId}`;
	if (principal.sessionId) return `s${principal.sessionId}`;
	return "x";
}

/** The cookie's contents: who entered, with which credential, until when. */
interface CookieGrant {
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
function signedCookie(upstream: SessionUpstream, sessionId: string, grant: CookieGrant): string {
	return `${grant.userId}.${grant.credential}.${grant.expires}.${mac(upstream, sessionId, grant)}`;
}

function mac(upstream: SessionUpstream, sessionId: string, grant: CookieGrant): string {
	return createHmac("sha256", upstream.token)
		.update(`${sessionId}.${grant.userId}.${grant.credential}.${grant.expires}`)
		.digest("base64url");
}

/** What a session cookie grants, when its signature holds and it has not expired. */
function cookieGrant(value: string | undefined, upstream: SessionUpstream, sessionId: string): CookieGrant | undefined {
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
async function credentialEnd(ctx: ServerContext, credential: CredentialRef): Promise<number | undefined> {
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
	const { limiter } = identityServices(ctx);
	const checked = new Map<string, number>();
	/**
	 * Whether the cookie's user may still enter (checked at most every 30 s): the credential they showed
	 * still holds, they may still run the session's run, and, where only administrators may use
	 * sessions (ORRERY_INTERACTIVE_SESSIONS=admins), they are one.
	 */
	const mayEnter = async (sessionId: string, upstream: SessionUpstream, grant: CookieGrant): Promise<boolean> => {
		const key = `${sessionId}:${grant.userId}:${grant.credential}`;
		if (Date.now() - (checked.get(key) ?? 0) < (ctx.config.sessionAccessRecheckMs ?? 30_000)) return true;
		if ((await credentialEnd(ctx, grant.credential)) === undefined) return false;
		const user = await findUserById(ctx.db, grant.userId);
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
			mayUseSessions(principal);
			await findAccessibleRun(ctx, principal, upstream.workflowId, "workflow.run");
		} catch (error) {
			if (isAppError(error)) return false;
			throw error;
		}
		checked.set(key, Date.now());
		return true;
	};
	const mayUseSessions = (principal: Principal) => {
		if (ctx.config.interactiveSessions === "admins" && principal.user.role !== "admin")
			throw new AppError("forbidden", "on this server only administrators may use interactive sessions");
	};
	/** The principal of a credential shown to a session, with the API's rate limit and audit of failures. */
	const authenticate = async (request: FastifyRequest, credential: string): Promise<Principal> => {
		const key = credentialKey(credential);
		limiter.check(request.ip, undefined);
		try {
			return await principalFor(ctx, credential);
		} catch (error) {
			if (isAppError(error) && error.code === "forbidden") {
				limiter.check(request.ip, key);
				limiter.fail(request.ip, key);
				await auditCredential(ctx, request, "auth_failed", key, error.message);
			}
			throw error;
		}
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
		const grant = linkToken ? undefined : cookieGrant(cookie, upstream, id);
		if (grant) {
			if (isCrossSiteRisk) {
				await refuse(reply, 403, "a request with the session's cookie came from another site");
				return;
			}
			if (!(await mayEnter(id, upstream, grant))) {
				clearCookie(reply, cookieName(id), sessionBase(id), isSecure);
				await refuse(
					reply,
					403,
					"you may no longer use this session (the credential you entered with no longer holds, or the run is not open to you for running it); open it again with 'orrery open'",
				);
				return;
			}
			request.sessionUpstream = upstream;
			return;
		}
		const explicit = linkToken ?? credentialOf(request.query, request.headers.authorization);
		const webLogin = explicit ? undefined : cookieOf(request, sessionCookie);
		const credential = explicit ?? webLogin;
		// A page of another site must not send a browser into a session with a link it made (its token)
		// or with the browser's own login: the session's pages run their author's code on this origin.
		const site = request.headers["sec-fetch-site"];
		if ((linkToken || webLogin) && (site === "cross-site" || site === "same-site")) {
			await refuse(
				reply,
				403,
				"another site sent this browser into an interactive session; open the session's link yourself (paste it into the address bar) or from the Orrery web UI",
			);
			return;
		}
		if (!credential) {
			await refuse(reply, 401, "open this session through its link (printed by 'orrery open' or 'reana-client open')");
			return;
		}
		if (webLogin && isCrossSiteRisk) {
			await refuse(reply, 403, "a request with the login cookie came from another site");
			return;
		}
		let entered: CookieGrant;
		try {
			const principal = await authenticate(request, credential);
			mayUseSessions(principal);
			await findAccessibleRun(ctx, principal, upstream.workflowId, "workflow.run");
			const ref = credentialRefOf(principal);
			const end = Math.min(
				(await credentialEnd(ctx, ref)) ?? 0,
				Date.now() + 1000 * (ref === "x" ? unstoredCredentialSeconds : cookieSeconds),
			);
			entered = { userId: principal.user.id, credential: ref, expires: Math.floor(end / 1000) };
		} catch (error) {
			if (!isAppError(error)) throw error;
			if (error.code === "rate_limited") {
				const after = (error.details as { retry_after_seconds?: number } | undefined)?.retry_after_seconds;
				if (after) reply.header("retry-after", String(after));
			}
			await refuse(reply, errorStatus[error.code] ?? 403, error.message);
			return;
		}
		checked.set(`${id}:${entered.userId}:${entered.credential}`, Date.now());
		setCookie(reply, cookieName(id), signedCookie(upstream, id, entered), {
			path: sessionBase(id),
			maxAgeSeconds: Math.max(1, entered.expires - Math.floor(Date.now() / 1000)),
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
	const wsClientOptions: {
		followRedirects: boolean;
		rewriteRequestHeaders: WsHeaders;
		queryString: (search: string | undefined) => string;
	} = {
		followRedirects: false,
		queryString: (search) => withoutCredentials((search ?? "").replace(/^\?/, "")),
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
			// Jupyter never sees a user's credential, in the query string either.
			queryString: (search, reqUrl) =>
				withoutCredentials(
					search ? search.replace(/^\?/, "") : reqUrl.includes("?") ? reqUrl.slice(reqUrl.indexOf("?") + 1) : "",
				),
			// Jupyter's cookies stay within its session's address; it never sets one of Orrery's.
			rewriteHeaders: (headers, request) => confineCookies(headers, sessionBase(request?.url.split("/")[2] ?? "")),
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

/**
 * Jupyter's answer with its cookies held to the session's address (it sets its `_xsrf` cookie for `/`,
 * where every session and the web UI would see it) and without any cookie named like Orrery's own.
 */
export function confineCookies<T extends Record<string, unknown>>(headers: T, base: string): T {
	const raw = headers["set-cookie"];
	if (raw === undefined) return headers;
	const cookies = (Array.isArray(raw) ? raw : [raw])
		.map(String)
		.filter((c) => !c.trim().toLowerCase().startsWith("orrery_"))
		.map((c) => {
			const parts = c.split(";").filter((p) => !/^\s*path\s*=/i.test(p));
			return [...parts, ` Path=${base}`].join(";");
		});
	return { ...headers, "set-cookie": cookies };
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

/** A query string without the credentials a user may put in it (`token`, REANA's `access_token`). */
export function withoutCredentials(query: string): string {
	if (!/(^|&)(token|access_token)=/.test(query)) return query;
	return query
		.split("&")
		.filter((pair) => !/^(token|access_token)(=|$)/.test(pair))
		.join("&");
}
