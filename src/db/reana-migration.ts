import { type Kysely, type Migration, sql } from "kysely";
import type { DialectName } from "./migrations.js";

/** Tables for REANA's user-facing features: secrets, quotas, retention rules; runs that share a workspace. */
export function reanaMigration(dialect: DialectName): Migration {
	const bigint = dialect === "postgres" ? "bigint" : "integer";
	return {
		async up(db: Kysely<unknown>) {
			await db.schema
				.createTable("secrets")
				.addColumn("user_id", "text", (c) => c.notNull().references("users.id").onDelete("cascade"))
				.addColumn("name", "text", (c) => c.notNull())
				.addColumn("type", "text", (c) => c.notNull())
				.addColumn("value", "text", (c) => c.notNull())
				.addColumn("created_at", "text", (c) => c.notNull())
				.addColumn("updated_at", "text", (c) => c.notNull())
				.addPrimaryKeyConstraint("secrets_pk", ["user_id", "name"])
				.execute();
			await db.schema
				.createTable("quotas")
				.addColumn("user_id", "text", (c) => c.notNull().references("users.id").onDelete("cascade"))
				.addColumn("resource", "text", (c) => c.notNull())
				.addColumn("limit_raw", sql.raw(bigint), (c) => c.notNull().defaultTo(0))
				.addColumn("usage_raw", sql.raw(bigint), (c) => c.notNull().defaultTo(0))
				.addColumn("updated_at", "text", (c) => c.notNull())
				.addPrimaryKeyConstraint("quotas_pk", ["user_id", "resource"])
				.execute();
			await db.schema
				.createTable("retention_rules")
				.addColumn("id", "text", (c) => c.primaryKey())
				.addColumn("workflow_id", "text", (c) => c.notNull().references("workflows.id").onDelete("cascade"))
				.addColumn("pattern", "text", (c) => c.notNull())
				.addColumn("retention_days", "integer", (c) => c.notNull())
				.addColumn("apply_on", "text")
				.addColumn("status", "text", (c) => c.notNull())
				.execute();
			await db.schema.createIndex("retention_rules_workflow").on("retention_rules").column("workflow_id").execute();
			await db.schema
				.createIndex("retention_rules_due")
				.on("retention_rules")
				.columns(["status", "apply_on"])
				.execute();
			// A restart (NAME.RUN.MINOR) runs in its parent's workspace; disk usage is measured when a run ends.
			await db.schema.alterTable("workflows").addColumn("restart_of", "text").execute();
			await db.schema.alterTable("workflows").addColumn("disk_bytes", sql.raw(bigint)).execute();
			// Listings: ordered by creation (index only, no sort), and counted per status without reading rows.
			await db.schema.dropIndex("workflows_owner_created").execute();
			await db.schema
				.createIndex("workflows_owner_listing")
				.on("workflows")
				.columns(["owner_id", "created_at", "run_number", "run_minor"])
				.execute();
			await db.schema.createIndex("workflows_owner_status").on("workflows").columns(["owner_id", "status"]).execute();
		},
	};
}
