import httpProxy from "@fastify/http-proxy";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { type Principal, tokenScopes } from "../../auth/index.js";
import { AppError, isAppError } from "../../common/index.js";
import { findUserById, listGroupIdsOfUser } from "../../db/index.js";
import { auditCredential, credentialKey, credentialOf, principalFor } from "../auth-hook.js";
import { identityServices } from "../identity-services.js";
import { findAccessibleRun } from "../routes/shared-runs.js";
import type { ServerContext } from "../server-context.js";
import { clearCookie, cookieOf, isSameOrigin, sessionCookie, setCookie } from "../session-cookies.js";
import type { SessionUpstream } from "./interactive-sessions.js";
import { sessionBase } from "./jupyter-process.js";
import {
	fromAnotherSite,
	isFromAnotherSite,
	isNavigation,
	refuse,
	refuseError,
	sessionEntries,
} from "./session-entry.js";
import {
	type CookieGrant,
	type CredentialRef,
	cookieGrant,
	cookieName,
	credentialEnd,
	credentialRefOf,
	grantFor,
	signedCookie,
} from "./session-grant.js";
import { isSessionsHost } from "./sessions-origin.js";

declare module "fastify" {
	interface FastifyRequest {
		sessionUpstream?: SessionUpstream;
	}
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
 *
 * With ORRERY_SESSIONS_URL the sessions are served on that host name only, and entered with a single-use
 * ticket (`/sessions/<id>/enter?ticket=…`, from the API or from a link's token shown to the server's own
 * host name, which answers a redirect to it); the sessions' host takes no other credential.
 */
export async function sessionProxy(app: FastifyInstance, ctx: ServerContext): Promise<void> {
	const { limiter } = identityServices(ctx);
	const { sessionsUrl } = ctx.config;
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
		const principal = await principalOf(grant.userId);
		if (!principal) return false;
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
	/** A user who entered a session, as a principal for the permission checks. */
	const principalOf = async (userId: string): Promise<Principal | undefined> => {
		const user = await findUserById(ctx.db, userId);
		if (!user) return undefined;
		const groupIds = await listGroupIdsOfUser(ctx.db, user.id);
		return { user, scopes: tokenScopes, tokenId: null, sessionId: null, groupIds, via: "session" };
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
	/** What a user who showed `credential` may have: a cookie for the run's session; refused as the API would. */
	const admit = async (principal: Principal, credential: CredentialRef, workflowId: string): Promise<CookieGrant> => {
		mayUseSessions(principal);
		await findAccessibleRun(ctx, principal, workflowId, "workflow.run");
		const grant = await grantFor(ctx, principal.user.id, credential);
		if (!grant) throw new AppError("forbidden", "the credential you entered with no longer holds; sign in again");
		return grant;
	};
	const giveCookie = (reply: FastifyReply, id: string, upstream: SessionUpstream, grant: CookieGrant) => {
		checked.set(`${id}:${grant.userId}:${grant.credential}`, Date.now());
		setCookie(reply, cookieName(id), signedCookie(upstream, id, grant), {
			path: sessionBase(id),
			maxAgeSeconds: Math.max(1, grant.expires - Math.floor(Date.now() / 1000)),
			isSecure,
		});
	};
	const { handOver, redeem } = sessionEntries(ctx, { authenticate, admit, principalOf, giveCookie });

	const enter = async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
		const id = /^\/sessions\/([0-9a-f-]{36})(?:\/|$|\?)/.exec(request.url)?.[1];
		if (sessionsUrl && !isSessionsHost(request, sessionsUrl)) {
			await handOver(request, reply, id, sessionsUrl);
			return;
		}
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
		if (url.pathname === `${sessionBase(id)}enter`) {
			await redeem(request, reply, id, upstream);
			return;
		}
		const linkToken = url.searchParams.get("token");
		const isCrossSiteRisk =
			(unsafeMethods.has(request.method) || request.headers.upgrade !== undefined) &&
			!isSameOrigin(request, sessionsUrl ?? ctx.config.publicUrl);
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
		if (sessionsUrl) {
			// The sessions' own host name takes no credential of Orrery's, only the tickets of entry links.
			await refuse(
				reply,
				401,
				"enter this session through its entry link: open it from the web UI, or follow the link 'orrery open' prints",
			);
			return;
		}
		const explicit = linkToken ?? credentialOf(request.query, request.headers.authorization);
		const webLogin = explicit ? undefined : cookieOf(request, sessionCookie);
		const credential = explicit ?? webLogin;
		// A page of another site must not send a browser into a session with a link it made (its token)
		// or with the browser's own login: the session's pages run their author's code on this origin.
		if ((linkToken || webLogin) && isFromAnotherSite(request)) {
			await refuse(reply, 403, fromAnotherSite);
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
		try {
			const principal = await authenticate(request, credential);
			giveCookie(reply, id, upstream, await admit(principal, credentialRefOf(principal), upstream.workflowId));
		} catch (error) {
			await refuseError(reply, error);
			return;
		}
		if (linkToken && isNavigation(request)) {
			// On, without the token, and only within the session's own address.
			url.searchParams.delete("token");
			const target = url.pathname.startsWith(sessionBase(id)) ? `${url.pathname}${url.search}` : sessionBase(id);
			await reply.redirect(target, 302);
			return;
		}
		request.sessionUpstream = upstream;
	};
	const isSecure = (sessionsUrl ?? ctx.config.publicUrl)?.startsWith("https:") === true;
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
