import { AppError, type Clock, isoNow } from "../common/index.js";
import { type Db, deleteSecretRows, listSecretRows, type SecretRow, upsertSecretRows } from "../db/index.js";
import type { SecretBox } from "./secret-box.js";

/** How a secret reaches jobs: an environment variable, or a read-only file. */
export type SecretType = "env" | "file";

const envName = /^[A-Za-z_][A-Za-z0-9_]*$/;
const fileName = /^[A-Za-z0-9._-]+$/;

/** Adds secrets; an existing name is a conflict unless `overwrite`. Values must come base64-encoded, as REANA's clients send them. */
export async function addSecrets(
	db: Db,
	box: SecretBox,
	clock: Clock,
	userId: string,
	secrets: Record<string, { value: string; type: SecretType }>,
	overwrite: boolean,
): Promise<void> {
	const existing = new Set((await listSecretRows(db, userId)).map((r) => r.name));
	const clashes = Object.keys(secrets).filter((n) => existing.has(n));
	if (clashes.length > 0 && !overwrite) {
		throw new AppError(
			"conflict",
			`secret${clashes.length > 1 ? "s" : ""} ${clashes.join(", ")} already exist; pass overwrite to replace them`,
		);
	}
	const at = isoNow(clock);
	const rows: SecretRow[] = [];
	for (const [name, { value, type }] of Object.entries(secrets)) {
		if (type === "env" && !envName.test(name)) {
			throw new AppError(
				"validation_failed",
				`'${name}' is not a valid environment variable name (letters, digits, _)`,
			);
		}
		if (type === "file" && !fileName.test(name)) {
			throw new AppError(
				"validation_failed",
				`'${name}' is not a valid file name for a secret (letters, digits, . _ -)`,
			);
		}
		rows.push({ user_id: userId, name, type, value: box.seal(value), created_at: at, updated_at: at });
	}
	await upsertSecretRows(db, rows);
}

/** A user's secrets: names and types only, never values. */
export async function listSecrets(db: Db, userId: string): Promise<Array<{ name: string; type: SecretType }>> {
	return (await listSecretRows(db, userId)).map((r) => ({ name: r.name, type: r.type }));
}

/** Secrets that were asked for but do not exist; REANA's API answers with their names. */
export class SecretsNotFoundError extends AppError {
	readonly names: string[];
	constructor(names: string[]) {
		super(
			"not_found",
			`secret${names.length > 1 ? "s" : ""} ${names.join(", ")} do${names.length > 1 ? "" : "es"} not exist`,
		);
		this.name = "SecretsNotFoundError";
		this.names = names;
	}
}

/** Deletes secrets; if some do not exist, nothing is deleted and their names are reported. */
export async function deleteSecrets(db: Db, userId: string, names: readonly string[]): Promise<string[]> {
	const existing = new Set((await listSecretRows(db, userId)).map((r) => r.name));
	const missing = names.filter((n) => !existing.has(n));
	if (missing.length > 0) throw new SecretsNotFoundError(missing);
	return deleteSecretRows(db, userId, names);
}

/** A user's secrets decrypted for a job: environment variables, and files (name → content, decoded from base64). */
export interface JobSecrets {
	env: Record<string, string>;
	files: Record<string, Buffer>;
}

/** Decrypts a user's secrets for the jobs of their run. */
export async function secretsForJobs(db: Db, box: SecretBox, userId: string): Promise<JobSecrets> {
	const out: JobSecrets = { env: {}, files: {} };
	for (const row of await listSecretRows(db, userId)) {
		const decoded = Buffer.from(box.open(row.value), "base64");
		if (row.type === "env") out.env[row.name] = decoded.toString("utf8");
		else out.files[row.name] = decoded;
	}
	return out;
}
