import type { FastifyReply, FastifyRequest } from "fastify";

/** The cookie that holds a web session (HttpOnly: scripts never see it). */
export const sessionCookie = "orrery_session";
/** The short-lived cookie that binds a browser login's state, PKCE verifier and nonce to the browser. */
export const loginCookie = "orrery_login";

/** The value of one cookie of a request, if present. */
export function cookieOf(request: FastifyRequest, name: string): string | undefined {
	const header = request.headers.cookie;
	if (!header) return undefined;
	for (const part of header.split(";")) {
		const i = part.indexOf("=");
		if (i < 0) continue;
		if (part.slice(0, i).trim() === name) {
			try {
				return decodeURIComponent(part.slice(i + 1).trim());
			} catch {
				return undefined;
			}
		}
	}
	return undefined;
}

/** Options of a cookie set by the server. */
export interface CookieOptions {
	path: string;
	maxAgeSeconds: number;
	isSecure: boolean;
}

/** Adds a Set-Cookie header (HttpOnly, SameSite=Lax: sent on top-level navigations, as the provider's redirect back is). */
export function setCookie(reply: FastifyReply, name: string, value: string, o: CookieOptions): void {
	const parts = [
		`${name}=${encodeURIComponent(value)}`,
		`Path=${o.path}`,
		`Max-Age=${Math.max(0, Math.floor(o.maxAgeSeconds))}`,
		"HttpOnly",
		"SameSite=Lax",
	];
	if (o.isSecure) parts.push("Secure");
	const existing = reply.getHeader("set-cookie");
	const list = Array.isArray(existing) ? existing : existing === undefined ? [] : [String(existing)];
	reply.header("set-cookie", [...list, parts.join("; ")]);
}

/** Removes a cookie. */
export function clearCookie(reply: FastifyReply, name: string, path: string, isSecure: boolean): void {
	setCookie(reply, name, "", { path, maxAgeSeconds: 0, isSecure });
}

/**
 * True when a cookie-authenticated request that changes something comes from this server's own pages:
 * its Origin (or Referer) names this host or the configured public URL. Cookies are the only credential
 * a browser sends by itself, so they alone need this check against cross-site requests.
 */
export function isSameOrigin(request: FastifyRequest, publicUrl: string | undefined): boolean {
	const from = request.headers.origin ?? request.headers.referer;
	if (!from) return false;
	let origin: URL;
	try {
		origin = new URL(from);
	} catch {
		return false;
	}
	if (publicUrl && origin.origin === new URL(publicUrl).origin) return true;
	// The scheme counts too: this server's origin is http(s) on its own host.
	return (origin.protocol === "http:" || origin.protocol === "https:") && origin.host === request.headers.host;
}
