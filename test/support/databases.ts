import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { type Db, openDatabase } from "../../src/db/index.js";

/** The dialects database tests run on: both unless TEST_DIALECTS narrows them (e.g. `sqlite`). */
export const testDialects = (process.env.TEST_DIALECTS ?? "sqlite,postgres")
	.split(",")
	.map((s) => s.trim())
	.filter((s): s is "sqlite" | "postgres" => s === "sqlite" || s === "postgres");

/** The PostgreSQL server of this machine (trust auth, database `test`), or ORRERY_TEST_DATABASE_URL. */
export const postgresUrl = process.env.ORRERY_TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";

/** A fresh, migrated database owned by one test file, and how to remove it. */
export interface TestDatabase {
	dialect: "sqlite" | "postgres";
	/** What ORRERY_DATABASE_URL would be for a server on this database. */
	url: string;
	/** PostgreSQL: the schema this test file owns (ORRERY_DATABASE_SCHEMA for a server). */
	schema?: string;
	/** The environment a server process needs to use this database. */
	env: Record<string, string>;
	open(): Promise<Db>;
	drop(): Promise<void>;
}

/** Creates an empty database of a dialect: a temp SQLite file, or a new PostgreSQL schema. */
export function testDatabase(dialect: "sqlite" | "postgres"): TestDatabase {
	if (dialect === "sqlite") {
		const dir = mkdtempSync(join(tmpdir(), "orrery-db-"));
		const url = join(dir, "orrery.db");
		return {
			dialect,
			url,
			env: { ORRERY_DATABASE_URL: url },
			open: () => openDatabase({ url }),
			drop: async () => rmSync(dir, { recursive: true, force: true }),
		};
	}
	const schema = `t_${process.pid}_${Math.random().toString(36).slice(2, 10)}`;
	return {
		dialect,
		url: postgresUrl,
		schema,
		env: { ORRERY_DATABASE_URL: postgresUrl, ORRERY_DATABASE_SCHEMA: schema },
		open: () => openDatabase({ url: postgresUrl, schema }),
		drop: async () => {
			const client = new pg.Client({ connectionString: postgresUrl });
			await client.connect();
			await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
			await client.end();
		},
	};
}
