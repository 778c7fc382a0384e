// The separate origin of interactive sessions (ORRERY_SESSIONS_URL): one server process answers two host
// names, the server's own (API and web UI) and the sessions' (notebook pages only).
import type { FastifyInstance, FastifyRequest } from "fastify";
import { AppError } from "../../common/index.js";
import type { ServerConfig } from "../../config/index.js";

/**
 * True when the request came for the sessions' host name: its Host (or, from a proxy named in
 * ORRERY_TRUST_PROXY, X-Forwarded-Host) is that of ORRERY_SESSIONS_URL, default ports aside.
 */
export function isSessionsHost(request: FastifyRequest, sessionsUrl: string): boolean {
	const wanted = new URL(sessionsUrl);
	try {
		return new URL(`${wanted.protocol}//${request.host}`).host === wanted.host;
	} catch {
		return false;
	}
}

/**
 * On the sessions' host name only the sessions are served (`/sessions/<id>/…`): neither the API nor the
 * web UI, so a notebook's scripts find nothing there to call with whatever the browser sends by itself.
 */
export function installSessionsOrigin(app: FastifyInstance, config: Pick<ServerConfig, "sessionsUrl">): void {
	const { sessionsUrl } = config;
	if (!sessionsUrl) return;
	app.addHook("onRequest", async (request) => {
		if (!isSessionsHost(request, sessionsUrl) || request.url.startsWith("/sessions/")) return;
		throw new AppError(
			"not_found",
			"this host serves interactive sessions only; the Orrery web UI and API are at the server's own address",
		);
	});
}
