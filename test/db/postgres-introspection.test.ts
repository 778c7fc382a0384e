import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { postgresUrl, testDatabase, testDialects } from "../support/databases.js";

// Another client of the same PostgreSQL server creating and dropping schemas, as other test files
// (and other applications sharing a database) do: the migrator's look at the schema must not fail.
describe.runIf(testDialects.includes("postgres"))(
	"the migrator's look at a PostgreSQL schema (real PostgreSQL)",
	() => {
		const db = testDatabase("postgres");
		afterAll(() => db.drop());

		it("lists only the schema in use and never fails while other schemas are dropped", async () => {
			const opened = await db.open();
			const churn = new pg.Client({ connectionString: postgresUrl });
			await churn.connect();
			let stop = false;
			let dropped = 0;
			const churning = (async () => {
				while (!stop) {
					const schema = `${db.schema}_churn_${dropped}`;
					await churn.query(
						`create schema "${schema}"; create table "${schema}".a (x serial primary key, y text default 'y'); create table "${schema}".b (x int references "${schema}".a(x))`,
					);
					await churn.query(`drop schema "${schema}" cascade`);
					dropped++;
				}
			})();
			const failures: string[] = [];
			let looks = 0;
			try {
				// At least 4 s, 50 schemas dropped and 100 looks (a busy machine needs longer), at most 60 s.
				const end = Date.now() + 4000;
				const limit = Date.now() + 60_000;
				while ((Date.now() < end || dropped < 50 || looks <= 100) && Date.now() < limit) {
					try {
						await opened.kysely.introspection.getTables({ withInternalKyselyTables: true });
						looks++;
					} catch (error) {
						failures.push((error as Error).message);
					}
				}
			} finally {
				stop = true;
				await churning;
				await churn.end();
			}
			expect(failures).toEqual([]);
			expect(looks).toBeGreaterThan(100);
			expect(dropped).toBeGreaterThanOrEqual(50);

			const tables = await opened.kysely.introspection.getTables({ withInternalKyselyTables: true });
			expect(new Set(tables.map((t) => t.schema))).toEqual(new Set([db.schema]));
			const names = tables.map((t) => t.name);
			expect(names).toContain("workflows");
			expect(names).toContain("kysely_migration");
			const visible = (await opened.kysely.introspection.getTables()).map((t) => t.name);
			expect(visible).toContain("workflows");
			expect(visible).not.toContain("kysely_migration");
			expect(visible).not.toContain("kysely_migration_lock");
			const events = tables.find((t) => t.name === "events");
			expect(events?.columns.find((c) => c.name === "id")).toMatchObject({
				isAutoIncrementing: true,
				isNullable: false,
			});
			await opened.close();
		}, 90_000);
	},
);
