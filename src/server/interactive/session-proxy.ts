import { createHmac, timingSafeEqual } from "node:crypto";
import httpProxy from "@fastify/http-proxy";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { isAppError } from "../../common/index.js";
import { credentialOf, principalFor } from "../auth-hook.js";
import { findAccessibleRun } from "../routes/shared-runs.js";
import type { ServerContext } from "../server-context.js";
import { cookieOf, sessionCookie, setCookie } from "../session-cookies.js";
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

/** The cookie's value: derived from the session's own token, so it outlives a server restart and dies with the session. */
function cookieValue(upstream: SessionUpstream): string {
	return createHmac("sha256", upstream.token).update("orrery interactive session cookie").digest("base64url");
}

function sameSecret(a: string, b: string): boolean {
	const x = Buffer.from(a);
	const y = Buffer.from(b);
	return x.length === y.length && timingSafeEqual(x, y);
}

/**
 * Serves each run's interactive session at `/sessions/<id>/…`: HTTP and WebSockets (the kernels'
 * channels) go to the session's Jupyter server on the loopback interface, with the session's own
 * token added, so Jupyter never sees a user's credential. Who may enter: a user the run is open to
 * for running it (its owner, or a share that allows it), known by the `token` of the link that
 * `reana-client open` and `orrery open` print (an Orrery access token), by a Bearer token, or by the
 * web UI's session cookie. The link's token is exchanged at once for a cookie of this session alone,
 * and the browser is sent on to the same address without it.
 */
export async function sessionProxy(app: FastifyInstance, ctx: ServerContext): Promise<void> {
	const enter = async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
		const id = /^\/sessions\/([0-9a-f-]{36})(?:\/|$|\?)/.exec(request.url)?.[1];
		const upstream = id ? await ctx.interactive.upstream(id) : undefined;
		if (!id || !upstream) {
			await reply
				.code(404)
				.send({ message: "no interactive session is open at this address; open one with 'orrery open -w RUN'" });
			return;
		}
		const url = new URL(request.url, "http://orrery.invalid");
		const linkToken = url.searchParams.get("token");
		const known = cookieOf(request, cookieName(id));
		if (!linkToken && known && sameSecret(known, cookieValue(upstream))) {
			request.sessionUpstream = upstream;
			return;
		}
		const credential =
			linkToken ?? credentialOf(request.query, request.headers.authorization) ?? cookieOf(request, sessionCookie);
		if (!credential) {
			await reply.code(401).send({
				message: "open this session through its link (printed by 'orrery open' or 'reana-client open')",
			});
			return;
		}
		try {
			const principal = await principalFor(ctx, credential);
			await findAccessibleRun(ctx, principal, upstream.workflowId, "workflow.run");
		} catch (error) {
			if (!isAppError(error)) throw error;
			const status = error.code === "not_found" ? 403 : (errorStatus[error.code] ?? 403);
			await reply.code(status).send({ message: error.message });
			return;
		}
		const isSecure = ctx.config.publicUrl?.startsWith("https:") === true;
		setCookie(reply, cookieName(id), cookieValue(upstream), {
			path: sessionBase(id),
			maxAgeSeconds: 7 * 24 * 3600,
			isSecure,
		});
		if (linkToken && (request.method === "GET" || request.method === "HEAD") && !request.raw.headers.upgrade) {
			url.searchParams.delete("token");
			await reply.redirect(`${url.pathname}${url.search}`, 302);
			return;
		}
		request.sessionUpstream = upstream;
	};
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

const errorStatus: Partial<Record<string, number>> = { unauthenticated: 401, forbidden: 403, rate_limited: 429 };

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
