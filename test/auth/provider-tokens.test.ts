import { createPrivateKey, generateKeyPairSync, type JsonWebKey, sign } from "node:crypto";
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testDialects } from "../support/databases.js";
import { startTestServer, type TestServer } from "../support/test-server.js";
import { type OidcService, oidcEnv, oidcService, providerTokens, TestBrowser } from "./oidc-browser.js";

/** The provider's own signing key (oidc.sh keeps it here): signs tokens that differ from real ones in one claim only. */
function providerKey(): JsonWebKey & { kid: string } {
	const dir = process.env.OIDC_STATE_DIR ?? "/var/lib/oidc-provider";
	const doc = JSON.parse(readFileSync(`${dir}/keys.json`, "utf8")) as {
		jwks: { keys: Array<JsonWebKey & { kid: string }> };
	};
	return doc.jwks.keys[0] as JsonWebKey & { kid: string };
}

function jwt(claims: Record<string, unknown>, key: JsonWebKey, kid: string): string {
	const h = Buffer.from(JSON.stringify({ alg: "RS256", typ: "at+jwt", kid })).toString("base64url");
	const p = Buffer.from(JSON.stringify(claims)).toString("base64url");
	const s = sign("sha256", Buffer.from(`${h}.${p}`), createPrivateKey({ key, format: "jwk" })).toString("base64url");
	return `${h}.${p}.${s}`;
}

describe.each(testDialects)("provider-issued JWT access tokens (%s)", (dialect) => {
	let t: TestServer;
	let oidc: OidcService;
	let alice: string;
	let claims: Record<string, unknown>;

	beforeAll(async () => {
		oidc = oidcService();
		t = await startTestServer(dialect, {
			env: oidcEnv(oidc, { ORRERY_OIDC_API_SCOPE_PREFIX: "api:" }),
			runScheduler: false,
		});
		alice = (await providerTokens(oidc, "alice")).access_token;
		claims = JSON.parse(Buffer.from(alice.split(".")[1] as string, "base64url").toString()) as Record<string, unknown>;
	});
	afterAll(async () => t?.close());

	const message = async (res: Response) => ((await res.json()) as { message: string }).message;

	it("asks a person who never logged in here to log in once", async () => {
		const res = await t.call("GET", "/api/you", { token: alice, bearer: true });
		expect(res.status).toBe(403);
		expect(await message(res)).toMatch(/never logged in here/);
	});

	it("accepts a person's access token once they have logged in, with the scopes the token grants", async () => {
		const browser = new TestBrowser("alice");
		const start = await browser.fetch(`${t.url}/api/auth/login`);
		const back = await browser.visit(start.headers.get("location") as string, oidc.redirectUri);
		expect((await browser.fetch(`${t.url}/api/auth/callback${back.search}`)).status).toBe(302);

		const you = await t.call("GET", "/api/you", { token: alice, bearer: true });
		expect(you.status).toBe(200);
		expect(await you.json()).toMatchObject({ email: "alice@example.test" });
		// api:read and api:write, but no api:run: starting is refused for the missing scope.
		const created = await t.call("POST", "/api/workflows?workflow_name=jwt", {
			token: alice,
			bearer: true,
			body: { workflow: { type: "serial", specification: { steps: [{ commands: ["true"] }] } } },
		});
		expect(created.status).toBe(201);
		const start2 = await t.call("POST", "/api/workflows/jwt/start", { token: alice, bearer: true, body: {} });
		expect(start2.status).toBe(403);
		expect(await message(start2)).toMatch(/lacks the 'run' scope/);
	});

	it("refuses a token of the provider for another audience", async () => {
		const res = await t.call("GET", "/api/you", {
			token: jwt({ ...claims, aud: "urn:other:api" }, providerKey(), providerKey().kid),
			bearer: true,
		});
		expect(res.status).toBe(403);
		expect(await message(res)).toMatch(/meant for 'urn:other:api'/);
	});

	it("refuses a token with the provider's signature but another issuer", async () => {
		const res = await t.call("GET", "/api/you", {
			token: jwt({ ...claims, iss: "https://evil.example" }, providerKey(), providerKey().kid),
			bearer: true,
		});
		expect(res.status).toBe(403);
		expect(await message(res)).toMatch(/issued by 'https:\/\/evil\.example'/);
	});

	it("refuses an expired token", async () => {
		const past = Math.floor(Date.now() / 1000) - 7200;
		const res = await t.call("GET", "/api/you", {
			token: jwt({ ...claims, iat: past - 3600, exp: past }, providerKey(), providerKey().kid),
			bearer: true,
		});
		expect(res.status).toBe(403);
		expect(await message(res)).toMatch(/expired at/);
	});

	it("refuses a tampered token, one signed by another key, and one with an unknown key id", async () => {
		const [h, , s] = alice.split(".");
		const p = Buffer.from(JSON.stringify({ ...claims, scope: "api:read api:write api:run api:admin" })).toString(
			"base64url",
		);
		const tampered = await t.call("GET", "/api/you", { token: `${h}.${p}.${s}`, bearer: true });
		expect(tampered.status).toBe(403);
		expect(await message(tampered)).toMatch(/signature does not match/);

		const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
		const foreign = privateKey.export({ format: "jwk" });
		const forged = await t.call("GET", "/api/you", { token: jwt(claims, foreign, providerKey().kid), bearer: true });
		expect(forged.status).toBe(403);
		expect(await message(forged)).toMatch(/signature does not match/);
		const unknownKid = await t.call("GET", "/api/you", { token: jwt(claims, foreign, "no-such-key"), bearer: true });
		expect(unknownKid.status).toBe(403);
		expect(await message(unknownKid)).toMatch(/not signed by a key of the provider/);
	});

	it("refuses malformed tokens and the `none` algorithm", async () => {
		const none = `${Buffer.from('{"alg":"none"}').toString("base64url")}.${Buffer.from(JSON.stringify(claims)).toString("base64url")}.x`;
		for (const token of [none, "a.b.c", "not a token", "orr_", "orrs_nope"]) {
			const res = await t.call("GET", "/api/you", { token, bearer: true });
			expect(res.status, token).toBe(403);
		}
	});

	it("refuses a client's own token (client credentials), which names no person", async () => {
		const res = await fetch(`${oidc.issuer}/token`, {
			method: "POST",
			headers: { authorization: `Basic ${Buffer.from(`${oidc.clientId}:${oidc.clientSecret}`).toString("base64")}` },
			body: new URLSearchParams({ grant_type: "client_credentials", scope: "api:read" }),
		});
		const cc = ((await res.json()) as { access_token: string }).access_token;
		const you = await t.call("GET", "/api/you", { token: cc, bearer: true });
		expect(you.status).toBe(403);
	});
});
