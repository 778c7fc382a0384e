import { constants, createPublicKey, type JsonWebKey, type KeyObject, verify } from "node:crypto";
import { AppError } from "../common/index.js";

/** A decoded, not yet verified JWT. */
export interface DecodedJwt {
	header: { alg?: unknown; kid?: unknown; typ?: unknown };
	payload: Record<string, unknown>;
	signingInput: string;
	signature: Buffer;
}

/** What a JWT's claims must satisfy. */
export interface JwtExpectations {
	issuer: string;
	audience: string;
	now: Date;
	/** Clock skew tolerated on exp, nbf and iat (seconds, default 60). */
	leewaySeconds?: number;
	/** For ID tokens: the nonce sent with the authorization request. */
	nonce?: string;
	/** What the token is, for messages ("ID token", "access token"). */
	what: string;
}

/** A JSON Web Key as a JWKS document lists it. */
export type Jwk = JsonWebKey & { kid?: string; alg?: string; use?: string; kty?: string };

const algorithms: Record<string, { kty: string; hash: string | null; pss?: boolean }> = {
	RS256: { kty: "RSA", hash: "sha256" },
	RS384: { kty: "RSA", hash: "sha384" },
	RS512: { kty: "RSA", hash: "sha512" },
	PS256: { kty: "RSA", hash: "sha256", pss: true },
	PS384: { kty: "RSA", hash: "sha384", pss: true },
	PS512: { kty: "RSA", hash: "sha512", pss: true },
	ES256: { kty: "EC", hash: "sha256" },
	ES384: { kty: "EC", hash: "sha384" },
	ES512: { kty: "EC", hash: "sha512" },
	EdDSA: { kty: "OKP", hash: null },
};

/** True when the value looks like a compact JWS (three base64url parts): the only tokens treated as provider tokens. */
export function looksLikeJwt(value: string): boolean {
	return /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/.test(value);
}

function invalid(what: string, why: string): AppError {
	return new AppError("forbidden", `the ${what} is not valid: ${why}`);
}

/** Splits and parses a compact JWS; anything malformed is `forbidden`. */
export function decodeJwt(token: string, what: string): DecodedJwt {
	const parts = token.split(".");
	if (parts.length !== 3 || !looksLikeJwt(token)) throw invalid(what, "it is not a JWT");
	const [h, p, s] = parts as [string, string, string];
	try {
		const header = JSON.parse(Buffer.from(h, "base64url").toString("utf8")) as DecodedJwt["header"];
		const payload = JSON.parse(Buffer.from(p, "base64url").toString("utf8")) as Record<string, unknown>;
		if (typeof header !== "object" || header === null || typeof payload !== "object" || payload === null) {
			throw new Error("not an object");
		}
		return { header, payload, signingInput: `${h}.${p}`, signature: Buffer.from(s, "base64url") };
	} catch (cause) {
		throw new AppError("forbidden", `the ${what} is not valid: its header or claims are not JSON`, { cause });
	}
}

/** Verifies a decoded JWT's signature with one key of the provider; `none` and HMAC algorithms are refused. */
export function verifySignature(jwt: DecodedJwt, jwk: Jwk, what: string): void {
	const alg = typeof jwt.header.alg === "string" ? jwt.header.alg : "";
	const spec = algorithms[alg];
	if (!spec) throw invalid(what, `the signature algorithm '${alg}' is not accepted`);
	if (jwk.kty !== spec.kty || (jwk.alg !== undefined && jwk.alg !== alg)) {
		throw invalid(what, `the signing key does not fit the algorithm ${alg}`);
	}
	let key: KeyObject;
	try {
		key = createPublicKey({ key: jwk, format: "jwk" });
	} catch (cause) {
		throw new AppError("forbidden", `the ${what} is not valid: the provider's key cannot be read`, { cause });
	}
	const data = Buffer.from(jwt.signingInput, "ascii");
	const ok =
		spec.kty === "RSA"
			? verify(
					spec.hash,
					data,
					spec.pss
						? { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST }
						: { key, padding: constants.RSA_PKCS1_PADDING },
					jwt.signature,
				)
			: spec.kty === "EC"
				? verify(spec.hash, data, { key, dsaEncoding: "ieee-p1363" }, jwt.signature)
				: verify(null, data, key, jwt.signature);
	if (!ok) throw invalid(what, "its signature does not match (was it changed?)");
}

/** Checks issuer, audience, expiry, not-before and nonce. */
export function checkClaims(payload: Record<string, unknown>, expect: JwtExpectations): void {
	const leeway = expect.leewaySeconds ?? 60;
	const now = expect.now.getTime() / 1000;
	const { what } = expect;
	if (payload.iss !== expect.issuer) {
		throw invalid(what, `it was issued by '${String(payload.iss)}', not by the configured provider ${expect.issuer}`);
	}
	const aud = Array.isArray(payload.aud) ? payload.aud : [payload.aud];
	if (!aud.includes(expect.audience)) {
		throw invalid(what, `it is meant for '${aud.join(", ")}', not for this server (${expect.audience})`);
	}
	if (typeof payload.exp !== "number") throw invalid(what, "it has no expiry");
	if (payload.exp + leeway <= now) {
		throw invalid(what, `it expired at ${new Date(payload.exp * 1000).toISOString()}; log in again`);
	}
	if (typeof payload.nbf === "number" && payload.nbf - leeway > now) throw invalid(what, "it is not valid yet");
	if (typeof payload.iat === "number" && payload.iat - leeway > now) throw invalid(what, "it was issued in the future");
	if (typeof payload.sub !== "string" || payload.sub === "") throw invalid(what, "it names no subject (sub)");
	if (expect.nonce !== undefined && payload.nonce !== expect.nonce) {
		throw invalid(what, "its nonce does not match this login; start the login again");
	}
}
