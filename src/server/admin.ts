import { createUser, issueToken, type Scope, tokenScopes } from "../auth/index.js";
import { AppError, systemClock } from "../common/index.js";
import type { ServerConfig } from "../config/index.js";
import {
	type Db,
	findToken,
	findUserByEmail,
	openDatabase,
	type QuotaResource,
	quotaResources,
	revokeToken,
	setQuotaLimit,
	type UserRow,
} from "../db/index.js";
import { recomputeUsage } from "../scheduler/index.js";

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
	/** Sets a user's limit of a resource; `limit` is raw (ms, bytes) or has a unit (10h, 30m; 50G, 500M); 0 is unlimited. */
	setQuota(input: {
		email: string;
		resource: string;
		limit: string;
	}): Promise<{ resource: string; limit: number; usage: number }>;
	migrate(): Promise<void>;
}

/** A quota limit with an optional unit: CPU time in h/m/s (stored in ms), disk in K/M/G/T (stored in bytes). */
export function parseQuotaLimit(resource: QuotaResource, text: string): number {
	const m = /^(\d+(?:\.\d+)?)\s*([a-zA-Z]*)$/.exec(text.trim());
	const units: Record<QuotaResource, Record<string, number>> = {
		cpu: { "": 1, ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 },
		disk: {
			"": 1,
			b: 1,
			k: 1024,
			kib: 1024,
			m: 1024 ** 2,
			mib: 1024 ** 2,
			g: 1024 ** 3,
			gib: 1024 ** 3,
			t: 1024 ** 4,
			tib: 1024 ** 4,
		},
	};
	const factor = m ? units[resource][(m[2] ?? "").toLowerCase()] : undefined;
	if (!m || factor === undefined) {
		throw new AppError(
			"validation_failed",
			`'${text}' is not a ${resource} limit; write e.g. ${resource === "cpu" ? "10h, 90m or a number of milliseconds" : "50G, 500M or a number of bytes"}`,
		);
	}
	return Math.round(Number(m[1]) * factor);
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
		setQuota: (input) =>
			withDb(config, async (db) => {
				if (!(quotaResources as readonly string[]).includes(input.resource)) {
					throw new AppError("validation_failed", `the resource must be one of ${quotaResources.join(", ")}`);
				}
				const resource = input.resource as QuotaResource;
				const user = await findUserByEmail(db, input.email);
				if (!user) throw new AppError("not_found", `no user with the email ${input.email}`);
				const limit = parseQuotaLimit(resource, input.limit);
				await setQuotaLimit(db, user.id, resource, limit, new Date().toISOString());
				const usage = await recomputeUsage(db, systemClock, user.id);
				return { resource, limit, usage: usage[resource] };
			}),
		migrate: () => withDb(config, async () => undefined),
	};
}
