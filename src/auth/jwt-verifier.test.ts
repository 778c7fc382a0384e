import { generateKeyPairSync, type KeyObject, sign } from "node:crypto";
import { describe, expect, it } from "vitest";
import { checkClaims, decodeJwt, type Jwk, verifySignature } from "./jwt-verifier.js";

function signed(alg: string, key: KeyObject, claims: object): string {
	const h = Buffer.from(JSON.stringify({ alg })).toString("base64url");
	const p = Buffer.from(JSON.stringify(claims)).toString("base64url");
	const data = Buffer.from(`${h}.${p}`);
	const s =
		alg === "EdDSA"
			? sign(null, data, key)
			: alg.startsWith("ES")
				? sign("sha256", data, { key, dsaEncoding: "ieee-p1363" })
				: sign("sha256", data, key);
	return `${h}.${p}.${s.toString("base64url")}`;
}

describe("JWT verification with node:crypto", () => {
	it.each([
		["RS256", generateKeyPairSync("rsa", { modulusLength: 2048 })],
		["ES256", generateKeyPairSync("ec", { namedCurve: "P-256" })],
		["EdDSA", generateKeyPairSync("ed25519")],
	] as const)("verifies %s signatures and refuses changed ones", (alg, pair) => {
		const token = signed(alg, pair.privateKey, { sub: "a" });
		const jwk = pair.publicKey.export({ format: "jwk" }) as Jwk;
		expect(() => verifySignature(decodeJwt(token, "token"), jwk, "token")).not.toThrow();
		const [h, , s] = token.split(".");
		const changed = `${h}.${Buffer.from('{"sub":"b"}').toString("base64url")}.${s}`;
		expect(() => verifySignature(decodeJwt(changed, "token"), jwk, "token")).toThrow(/signature does not match/);
	});

	it("refuses HMAC and none, and keys of another type", () => {
		const rsa = generateKeyPairSync("rsa", { modulusLength: 2048 });
		const jwk = rsa.publicKey.export({ format: "jwk" }) as Jwk;
		const hs = `${Buffer.from('{"alg":"HS256"}').toString("base64url")}.e30.AA`;
		expect(() => verifySignature(decodeJwt(hs, "token"), jwk, "token")).toThrow(/'HS256' is not accepted/);
		const es = signed("ES256", generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey, {});
		expect(() => verifySignature(decodeJwt(es, "token"), jwk, "token")).toThrow(/does not fit/);
		expect(() => decodeJwt("a.b", "token")).toThrow(/not a JWT/);
	});

	it("checks issuer, audience, expiry and nonce", () => {
		const now = new Date("2030-01-01T00:00:00Z");
		const t = now.getTime() / 1000;
		const ok = { iss: "https://idp", aud: ["api", "other"], sub: "s", exp: t + 60, nonce: "n" };
		const expect_ = { issuer: "https://idp", audience: "api", now, what: "token", nonce: "n" };
		expect(() => checkClaims(ok, expect_)).not.toThrow();
		expect(() => checkClaims({ ...ok, iss: "https://evil" }, expect_)).toThrow(/issued by 'https:\/\/evil'/);
		expect(() => checkClaims({ ...ok, aud: "x" }, expect_)).toThrow(/meant for 'x'/);
		expect(() => checkClaims({ ...ok, exp: t - 61 }, expect_)).toThrow(/expired/);
		expect(() => checkClaims({ ...ok, exp: t - 30 }, expect_)).not.toThrow();
		expect(() => checkClaims({ ...ok, nonce: "m" }, expect_)).toThrow(/nonce/);
		expect(() => checkClaims({ ...ok, nbf: t + 3600 }, expect_)).toThrow(/not valid yet/);
	});
});
