import { createUser, issueToken, type Scope, tokenScopes } from "../auth/index.js";
import { AppError, systemClock } from "../common/index.js";
import type { ServerConfig } from "../config/index.js";
import { type Db, findToken, findUserByEmail, openDatabase, revokeToken, type UserRow } from "../db/index.js";

/** Server-side administration that works on the database directly (like reana-admin). */
export interface AdminCommands {
	createUser(input: {
		email: string;
		fullName?: string;
		isAdmin?: boolean;
		tokenName?: string;
		expiresInDays?: number;
	}): Promise<{
		user: UserRow;
		token: string;
	}>;
	grantToken(input: {
		email: string;
		name?: string;
		scopes?: string[];
		expiresInDays?: number;
	}): Promise<{ token: string; prefix: string }>;
	revokeToken(idOrPrefix: string): Promise<void>;
	migrate(): Promise<void>;
}

async function withDb<T>(config: ServerConfig, work: (db: Db) => Promise<T>): Promise<T> {
	const db = await openDatabase({
		url: config.databaseUrl,
		...(config.databaseSchema ? { schema: config.databaseSchema } : {}),
	});
	try {
		return await work(db);
	} finally {
		await db.close();
	}
}

function expiry(days: number | undefined): Date | null {
	if (days === undefined || days === 0) return null;
	if (!Number.isFinite(days) || days < 0)
		throw new AppError("validation_failed", "the expiry must be a positive number of days");
	return new Date(Date.now() + days * 86_400_000);
}

function parseScopes(scopes: string[] | undefined): Scope[] {
	const out = scopes ?? ["read", "write", "run"];
	for (const s of out) {
		if (!(tokenScopes as readonly string[]).includes(s)) {
			throw new AppError("validation_failed", `unknown scope '${s}'; use ${tokenScopes.join(", ")}`);
		}
	}
	return out as Scope[];
}

/** The admin commands bound to a server configuration. */
export function adminCommands(config: ServerConfig): AdminCommands {
	return {
		createUser: (input) =>
			withDb(config, async (db) => {
				const user = await createUser(
					db,
					{ email: input.email, fullName: input.fullName ?? null, role: input.isAdmin ? "admin" : "user" },
					systemClock,
				);
				const scopes: Scope[] = input.isAdmin ? ["read", "write", "run", "admin"] : ["read", "write", "run"];
				const { value } = await issueToken(
					db,
					user,
					{ name: input.tokenName ?? "default", scopes, expiresAt: expiry(input.expiresInDays) },
					systemClock,
				);
				return { user, token: value };
			}),
		grantToken: (input) =>
			withDb(config, async (db) => {
				const user = await findUserByEmail(db, input.email);
				if (!user)
					throw new AppError(
						"not_found",
						`no user with the email ${input.email}; create it with 'orrery admin create-user'`,
					);
				const { value, row } = await issueToken(
					db,
					user,
					{ name: input.name ?? "granted", scopes: parseScopes(input.scopes), expiresAt: expiry(input.expiresInDays) },
					systemClock,
				);
				return { token: value, prefix: row.prefix };
			}),
		revokeToken: (idOrPrefix) =>
			withDb(config, async (db) => {
				const token = await findToken(db, idOrPrefix);
				if (!token) throw new AppError("not_found", `no token with the id or prefix ${idOrPrefix}`);
				if (!(await revokeToken(db, token.id, new Date().toISOString()))) {
					throw new AppError("conflict", `token ${token.prefix} is already revoked`);
				}
			}),
		migrate: () => withDb(config, async () => undefined),
	};
}
