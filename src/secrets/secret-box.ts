import { createCipheriv, createDecipheriv, createHmac, randomBytes } from "node:crypto";
import { chmod, mkdir, readFile, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import { AppError } from "../common/index.js";

/** Encrypts and decrypts secret values with one server key (AES-256-GCM, a fresh nonce per value). */
export interface SecretBox {
	seal(plain: string): string;
	open(sealed: string): string;
	/**
	 * A box with a key of its own for one purpose, derived from this one (HMAC-SHA256): what it seals
	 * cannot be opened as anything else, nor anything else (a user's secret) as what it seals.
	 */
	derive(purpose: string): SecretBox;
}

const version = "v1";

/** A box for a 32-byte key. Sealed values read `v1.<nonce>.<ciphertext>.<tag>` in base64url. */
export function secretBox(key: Buffer): SecretBox {
	if (key.length !== 32) throw new AppError("validation_failed", "the secret key must be 32 bytes");
	return {
		seal(plain) {
			const nonce = randomBytes(12);
			const cipher = createCipheriv("aes-256-gcm", key, nonce);
			const data = Buffer.concat([cipher.update(plain, "utf8"), cipher.final()]);
			return [version, nonce, data, cipher.getAuthTag()]
				.map((p) => (typeof p === "string" ? p : p.toString("base64url")))
				.join(".");
		},
		open(sealed) {
			const [v, nonce, data, tag] = sealed.split(".");
			if (v !== version || !nonce || data === undefined || !tag)
				throw new AppError("internal", "a stored secret is malformed");
			try {
				const decipher = createDecipheriv("aes-256-gcm", key, Buffer.from(nonce, "base64url"));
				decipher.setAuthTag(Buffer.from(tag, "base64url"));
				return Buffer.concat([decipher.update(Buffer.from(data, "base64url")), decipher.final()]).toString("utf8");
			} catch (cause) {
				throw new AppError("internal", "a stored secret cannot be decrypted: was ORRERY_SECRET_KEY changed?", {
					cause,
				});
			}
		},
		derive(purpose) {
			return secretBox(createHmac("sha256", key).update(`orrery box: ${purpose}`).digest());
		},
	};
}

/**
 * The server's key: ORRERY_SECRET_KEY (32 bytes as hex or base64) when set, otherwise a random key
 * kept in a 0600 file (fine for one server; replicas must share ORRERY_SECRET_KEY).
 */
export async function loadSecretKey(configured: string | undefined, keyFile: string): Promise<Buffer> {
	if (configured) {
		const key = /^[0-9a-f]{64}$/i.test(configured) ? Buffer.from(configured, "hex") : Buffer.from(configured, "base64");
		if (key.length !== 32) {
			throw new AppError(
				"validation_failed",
				"ORRERY_SECRET_KEY must be 32 bytes, written as 64 hex digits or base64 (openssl rand -hex 32)",
			);
		}
		return key;
	}
	try {
		return Buffer.from((await readFile(keyFile, "utf8")).trim(), "hex");
	} catch {
		const key = randomBytes(32);
		await mkdir(dirname(keyFile), { recursive: true, mode: 0o700 });
		await writeFile(keyFile, `${key.toString("hex")}\n`, { mode: 0o600, flag: "wx" }).catch(async () => undefined);
		await chmod(keyFile, 0o600);
		// Another process may have won the race to create it: read what is there.
		return Buffer.from((await readFile(keyFile, "utf8")).trim(), "hex");
	}
}
