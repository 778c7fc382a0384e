import { execFileSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { resolve } from "node:path";

/** The real OIDC provider of ../shared/services/oidc.sh (started once per test process). */
export interface OidcService {
	issuer: string;
	audience: string;
	clientId: string;
	clientSecret: string;
	redirectUri: string;
}

let started: OidcService | undefined;

/** Starts (or finds running) the test OIDC provider and returns its settings. */
export function oidcService(): OidcService {
	if (started) return started;
	const script = resolve(import.meta.dirname, "../../../shared/services/oidc.sh");
	const out = execFileSync("bash", [script], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], timeout: 120_000 });
	const env: Record<string, string> = {};
	for (const m of out.matchAll(/^export (\w+)=(.*)$/gm)) env[m[1] as string] = m[2] as string;
	started = {
		issuer: env.OIDC_ISSUER as string,
		audience: env.OIDC_AUDIENCE as string,
		clientId: env.OIDC_CLIENT_ID as string,
		clientSecret: env.OIDC_CLIENT_SECRET as string,
		redirectUri: env.OIDC_REDIRECT_URI as string,
	};
	return started;
}

/** The server settings that point Orrery at the test provider. */
export function oidcEnv(s: OidcService, extra: Record<string, string> = {}): Record<string, string> {
	return {
		ORRERY_OIDC_ISSUER: s.issuer,
		ORRERY_OIDC_CLIENT_ID: s.clientId,
		ORRERY_OIDC_CLIENT_SECRET: s.clientSecret,
		ORRERY_OIDC_SCOPES: "openid profile email groups",
		ORRERY_OIDC_REDIRECT_URI: s.redirectUri,
		ORRERY_OIDC_AUDIENCE: s.audience,
		...extra,
	};
}

/**
 * A minimal browser: one cookie jar per host, manual redirects, and a person who fills in the provider's dev
 * login form (any login is accepted; it becomes `sub`) and confirms device codes. It stops at a URL that starts
 * with `stopAt` (the client's redirect URI) and returns it.
 */
export class TestBrowser {
	private readonly jars = new Map<string, Map<string, string>>();

	constructor(private readonly login: string) {}

	/** The cookies this browser holds for a host. */
	cookies(url: string): Map<string, string> {
		const host = new URL(url).host;
		let jar = this.jars.get(host);
		if (!jar) {
			jar = new Map();
			this.jars.set(host, jar);
		}
		return jar;
	}

	/** One request with this browser's cookies; stores the cookies it sets. */
	async fetch(url: string, init: RequestInit = {}): Promise<Response> {
		const jar = this.cookies(url);
		const headers = new Headers(init.headers);
		if (jar.size > 0) headers.set("cookie", [...jar].map(([k, v]) => `${k}=${v}`).join("; "));
		const res = await fetch(url, { ...init, headers, redirect: "manual" });
		for (const c of res.headers.getSetCookie()) {
			const [kv, ...attrs] = c.split(";");
			const i = (kv as string).indexOf("=");
			const name = (kv as string).slice(0, i).trim();
			const value = (kv as string).slice(i + 1).trim();
			if (attrs.some((a) => /max-age=0\b/i.test(a.trim())) || value === "") jar.delete(name);
			else jar.set(name, value);
		}
		return res;
	}

	/** Follows redirects and fills the provider's forms until a URL starting with `stopAt`, which it returns. */
	async visit(start: string, stopAt: string): Promise<URL> {
		let url = start;
		let init: RequestInit = {};
		for (let hop = 0; hop < 20; hop++) {
			if (url.startsWith(stopAt)) return new URL(url);
			const res = await this.fetch(url, init);
			const location = res.headers.get("location");
			if (res.status >= 300 && res.status < 400 && location) {
				url = new URL(location, url).href;
				init = {};
				continue;
			}
			const html = await res.text();
			const inputs = Object.fromEntries(
				[...html.matchAll(/<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"/g)].map((m) => [m[1], m[2]]),
			);
			const action = html.match(/<form[^>]*action="([^"]+)"/)?.[1];
			if (!action) return new URL(url);
			const form =
				inputs.prompt === "login"
					? { prompt: "login", login: this.login, password: "any" }
					: inputs.prompt === "consent"
						? { prompt: "consent" }
						: inputs.xsrf && inputs.user_code
							? { xsrf: inputs.xsrf, user_code: inputs.user_code, confirm: "yes" }
							: undefined;
			if (!form) return new URL(url);
			url = new URL(action, url).href;
			init = { method: "POST", body: new URLSearchParams(form as Record<string, string>) };
		}
		throw new Error(`too many redirects from ${start}`);
	}
}

/** Tokens for a person straight from the provider (authorization code + PKCE), as another client of the API would get them. */
export async function providerTokens(
	s: OidcService,
	login: string,
): Promise<{ access_token: string; id_token: string }> {
	const verifier = randomBytes(32).toString("base64url");
	const q = new URLSearchParams({
		client_id: s.clientId,
		response_type: "code",
		redirect_uri: s.redirectUri,
		scope: "openid email profile groups api:read api:write",
		state: "state",
		nonce: "nonce",
		code_challenge: createHash("sha256").update(verifier).digest("base64url"),
		code_challenge_method: "S256",
	});
	const back = await new TestBrowser(login).visit(`${s.issuer}/auth?${q}`, s.redirectUri);
	const code = back.searchParams.get("code");
	if (!code) throw new Error(`no code in ${back.href}`);
	const res = await fetch(`${s.issuer}/token`, {
		method: "POST",
		headers: { authorization: `Basic ${Buffer.from(`${s.clientId}:${s.clientSecret}`).toString("base64")}` },
		body: new URLSearchParams({
			grant_type: "authorization_code",
			code,
			redirect_uri: s.redirectUri,
			code_verifier: verifier,
		}),
	});
	const body = (await res.json()) as { access_token: string; id_token: string };
	if (!res.ok) throw new Error(JSON.stringify(body));
	return body;
}
