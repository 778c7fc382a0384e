import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import BetterSqlite3 from "better-sqlite3";
import { Kysely, SqliteDialect } from "kysely";
import type pg from "pg";
import { AppError } from "../common/index.js";
import { type DialectName, migrateToLatest } from "./migrations.js";
import { CurrentSchemaPostgresDialect } from "./postgres-dialect.js";
import type { Database } from "./schema.js";

/** Where the database lives: a SQLite file path, or a `postgres://` URL. */
export interface DatabaseConfig {
	url: string;
	/** PostgreSQL only: the schema to use (created if missing); tests use one per file. */
	schema?: string;
	poolSize?: number;
}

/** An open database: the Kysely handle, which dialect it speaks, and how to close it. */
export interface Db {
	kysely: Kysely<Database>;
	dialect: DialectName;
	close(): Promise<void>;
}

/** True when the URL names a PostgreSQL server rather than a SQLite file. */
export function isPostgresUrl(url: string): boolean {
	return /^postgres(ql)?:\/\//.test(url);
}

/** Opens the database and brings its schema up to date. */
export async function openDatabase(config: DatabaseConfig): Promise<Db> {
	const db = isPostgresUrl(config.url) ? await openPostgres(config) : openSqlite(config.url);
	try {
		await migrateToLatest(db.kysely as Kysely<unknown>, db.dialect);
	} catch (error) {
		await db.close();
		throw error;
	}
	return db;
}

function openSqlite(url: string): Db {
	const file = url.replace(/^sqlite:(\/\/)?/, "");
	if (file !== ":memory:") mkdirSync(dirname(file), { recursive: true });
	let sqlite: BetterSqlite3.Database;
	try {
		sqlite = new BetterSqlite3(file);
	} catch (cause) {
		throw new AppError("backend_unavailable", `cannot open the SQLite database at ${file}`, { cause });
	}
	sqlite.pragma("journal_mode = WAL");
	sqlite.pragma("synchronous = NORMAL");
	sqlite.pragma("busy_timeout = 10000");
	sqlite.pragma("foreign_keys = ON");
	const kysely = new Kysely<Database>({ dialect: new SqliteDialect({ database: withStatementCache(sqlite) }) });
	return { kysely, dialect: "sqlite", close: () => kysely.destroy() };
}

/**
 * Kysely prepares every query anew; with better-sqlite3 that costs more than running most of ours.
 * Statements are reusable, so keep the recently used ones (bounded, as `IN (…)` lists vary the SQL).
 */
function withStatementCache(
	sqlite: BetterSqlite3.Database,
	size = 500,
): Pick<BetterSqlite3.Database, "close" | "prepare"> {
	const cache = new Map<string, BetterSqlite3.Statement>();
	return {
		close: () => sqlite.close(),
		prepare: ((sql: string) => {
			let stmt = cache.get(sql);
			if (stmt) {
				cache.delete(sql);
			} else {
				stmt = sqlite.prepare(sql);
				if (cache.size >= size) cache.delete(cache.keys().next().value as string);
			}
			cache.set(sql, stmt);
			return stmt;
		}) as BetterSqlite3.Database["prepare"],
	};
}

async function openPostgres(config: DatabaseConfig): Promise<Db> {
	// Loaded only here: the embedded (SQLite) server should not pay for the PostgreSQL driver at start.
	const { default: pg } = await import("pg");
	const poolConfig: pg.PoolConfig = { connectionString: config.url, max: config.poolSize ?? 10 };
	if (config.schema) {
		const admin = new pg.Client({ connectionString: config.url });
		try {
			await admin.connect();
			await admin.query(`CREATE SCHEMA IF NOT EXISTS "${config.schema.replace(/"/g, "")}"`);
		} catch (cause) {
			throw new AppError("backend_unavailable", `cannot reach PostgreSQL at ${redact(config.url)}`, { cause });
		} finally {
			await admin.end().catch(() => undefined);
		}
		poolConfig.options = `-c search_path="${config.schema.replace(/"/g, "")}"`;
	}
	const pool = new pg.Pool(poolConfig);
	pool.on("error", () => undefined); // idle-client errors surface on the next query instead
	try {
		const client = await pool.connect();
		client.release();
	} catch (cause) {
		await pool.end();
		throw new AppError("backend_unavailable", `cannot reach PostgreSQL at ${redact(config.url)}`, { cause });
	}
	const kysely = new Kysely<Database>({ dialect: new CurrentSchemaPostgresDialect({ pool }) });
	return { kysely, dialect: "postgres", close: () => kysely.destroy() };
}

function redact(url: string): string {
	return url.replace(/\/\/([^:@/]+):[^@/]*@/, "//$1:***@");
}

/** True when a driver error is a unique-constraint violation (both dialects). */
export function isUniqueViolation(error: unknown): boolean {
	const code = (error as { code?: unknown } | null)?.code;
	return code === "SQLITE_CONSTRAINT_UNIQUE" || code === "SQLITE_CONSTRAINT_PRIMARYKEY" || code === "23505";
}

/** Runs a write and turns a unique-constraint violation into a `conflict` with the given message. */
export async function uniquely<T>(message: string, write: () => Promise<T>): Promise<T> {
	try {
		return await write();
	} catch (error) {
		if (isUniqueViolation(error)) throw new AppError("conflict", message, { cause: error });
		throw error;
	}
}

/** SQLite result codes that mean "try again": another connection holds a lock. */
const sqliteTransient = /^SQLITE_(BUSY|LOCKED)/;
/** PostgreSQL SQLSTATEs that mean "try again": a lost connection (08…), a serialization failure or deadlock, a server going down or full. */
const postgresTransient = /^(08...|40001|40P01|57P0[123]|53300)$/;
/** Node's socket errors and pg's own messages for a connection that went away. */
const socketTransient = new Set(["ECONNRESET", "ECONNREFUSED", "ETIMEDOUT", "EPIPE", "EHOSTUNREACH", "ENOTCONN"]);

/**
 * A driver error that says "try again" (the database is busy, locked, unreachable, or could not
 * serialize a transaction) as a retryable `backend_unavailable`; undefined for any other error,
 * which stays what it is. The scheduler retries a run's tick on these instead of failing the run.
 */
export function transientDatabaseError(error: unknown): AppError | undefined {
	if (!(error instanceof Error)) return undefined;
	const code = (error as { code?: unknown }).code;
	const isTransient =
		typeof code === "string"
			? sqliteTransient.test(code) || postgresTransient.test(code) || socketTransient.has(code)
			: /^Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error/.test(
					error.message,
				);
	if (!isTransient) return undefined;
	return new AppError("backend_unavailable", `the database is unavailable for now (${error.message})`, {
		cause: error,
	});
}
