import { type Kysely, type Migration, sql } from "kysely";
import type { DialectName } from "./migrations.js";

/** The transfers of staging: one row per file staged in, one per publish target; persisted before any byte moves. */
export function stagingMigration(dialect: DialectName): Migration {
	const bigint = dialect === "postgres" ? "bigint" : "integer";
	return {
		async up(db: Kysely<unknown>) {
			await db.schema
				.createTable("transfers")
				.addColumn("workflow_id", "text", (c) => c.notNull().references("workflows.id").onDelete("cascade"))
				.addColumn("direction", "text", (c) => c.notNull())
				.addColumn("seq", "integer", (c) => c.notNull())
				.addColumn("url", "text", (c) => c.notNull())
				.addColumn("path", "text", (c) => c.notNull())
				.addColumn("size", sql.raw(bigint))
				.addColumn("sha256", "text")
				.addColumn("modified", "text")
				.addColumn("options", "text", (c) => c.notNull())
				.addColumn("status", "text", (c) => c.notNull())
				.addColumn("bytes", sql.raw(bigint), (c) => c.notNull().defaultTo(0))
				.addColumn("message", "text")
				.addColumn("updated_at", "text", (c) => c.notNull())
				.addPrimaryKeyConstraint("transfers_pk", ["workflow_id", "direction", "seq"])
				.execute();
		},
	};
}
