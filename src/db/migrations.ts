import { type Kysely, type Migration, type MigrationProvider, Migrator, sql } from "kysely";
import { AppError } from "../common/index.js";
import { reanaMigration } from "./reana-migration.js";
import { stagingMigration } from "./staging-migration.js";

/** The dialect a migration writes for; the few type differences are chosen here. */
export type DialectName = "sqlite" | "postgres";

function migrations(dialect: DialectName): Record<string, Migration> {
	const autoId = dialect === "postgres" ? "serial" : "integer";
	return {
		"0001_foundation": {
			async up(db: Kysely<unknown>) {
				await db.schema
					.createTable("users")
					.addColumn("id", "text", (c) => c.primaryKey())
					.addColumn("email", "text", (c) => c.notNull().unique())
					.addColumn("full_name", "text")
					.addColumn("role", "text", (c) => c.notNull().defaultTo("user"))
					.addColumn("created_at", "text", (c) => c.notNull())
					.execute();
				await db.schema
					.createTable("tokens")
					.addColumn("id", "text", (c) => c.primaryKey())
					.addColumn("user_id", "text", (c) => c.notNull().references("users.id").onDelete("cascade"))
					.addColumn("name", "text", (c) => c.notNull())
					.addColumn("prefix", "text", (c) => c.notNull())
					.addColumn("hash", "text", (c) => c.notNull().unique())
					.addColumn("scopes", "text", (c) => c.notNull())
					.addColumn("created_at", "text", (c) => c.notNull())
					.addColumn("expires_at", "text")
					.addColumn("last_used_at", "text")
					.addColumn("revoked_at", "text")
					.execute();
				await db.schema.createIndex("tokens_user").on("tokens").column("user_id").execute();
				await db.schema
					.createTable("workflows")
					.addColumn("id", "text", (c) => c.primaryKey())
					.addColumn("name", "text", (c) => c.notNull())
					.addColumn("run_number", "integer", (c) => c.notNull())
					.addColumn("run_minor", "integer", (c) => c.notNull().defaultTo(0))
					.addColumn("owner_id", "text", (c) => c.notNull().references("users.id"))
					.addColumn("type", "text", (c) => c.notNull())
					.addColumn("status", "text", (c) => c.notNull())
					.addColumn("status_message", "text")
					.addColumn("spec", "text", (c) => c.notNull())
					.addColumn("parameters", "text", (c) => c.notNull())
					.addColumn("options", "text", (c) => c.notNull())
					.addColumn("workspace_path", "text", (c) => c.notNull())
					.addColumn("progress", "text")
					.addColumn("outputs", "text")
					.addColumn("created_at", "text", (c) => c.notNull())
					.addColumn("updated_at", "text", (c) => c.notNull())
					.addColumn("started_at", "text")
					.addColumn("finished_at", "text")
					.addColumn("stop_requested_at", "text")
					.addColumn("lease_owner", "text")
					.addColumn("lease_expires_at", "text")
					.addUniqueConstraint("workflows_run", ["owner_id", "name", "run_number", "run_minor"])
					.execute();
				await db.schema
					.createIndex("workflows_owner_created")
					.on("workflows")
					.columns(["owner_id", "created_at"])
					.execute();
				await db.schema.createIndex("workflows_status").on("workflows").column("status").execute();
				await db.schema
					.createTable("jobs")
					.addColumn("id", "text", (c) => c.primaryKey())
					.addColumn("workflow_id", "text", (c) => c.notNull().references("workflows.id").onDelete("cascade"))
					.addColumn("key", "text", (c) => c.notNull())
					.addColumn("seq", "integer", (c) => c.notNull())
					.addColumn("attempt", "integer", (c) => c.notNull())
					.addColumn("step_name", "text", (c) => c.notNull())
					.addColumn("backend", "text", (c) => c.notNull())
					.addColumn("backend_ref", "text")
					.addColumn("command", "text", (c) => c.notNull())
					.addColumn("image", "text")
					.addColumn("image_used", "integer")
					.addColumn("resources", "text", (c) => c.notNull())
					.addColumn("job_dir", "text", (c) => c.notNull())
					.addColumn("status", "text", (c) => c.notNull())
					.addColumn("exit_code", "integer")
					.addColumn("message", "text")
					.addColumn("outputs", "text")
					.addColumn("created_at", "text", (c) => c.notNull())
					.addColumn("submitted_at", "text")
					.addColumn("started_at", "text")
					.addColumn("finished_at", "text")
					.addUniqueConstraint("jobs_attempt", ["workflow_id", "key", "attempt"])
					.execute();
				await db.schema.createIndex("jobs_workflow_seq").on("jobs").columns(["workflow_id", "seq"]).execute();
				await db.schema.createIndex("jobs_status").on("jobs").column("status").execute();
				await db.schema
					.createTable("events")
					.addColumn("id", sql.raw(autoId), (c) =>
						dialect === "postgres" ? c.primaryKey() : c.primaryKey().autoIncrement(),
					)
					.addColumn("workflow_id", "text", (c) => c.notNull().references("workflows.id").onDelete("cascade"))
					.addColumn("job_id", "text")
					.addColumn("at", "text", (c) => c.notNull())
					.addColumn("level", "text", (c) => c.notNull())
					.addColumn("type", "text", (c) => c.notNull())
					.addColumn("message", "text", (c) => c.notNull())
					.execute();
				await db.schema.createIndex("events_workflow").on("events").columns(["workflow_id", "id"]).execute();
			},
		},
		"0002_identity": {
			// Groups and memberships from OIDC claims, provider identities, web sessions, shares, the audit log,
			// and the kind of a token (personal, or made by `orrery login`).
			async up(db: Kysely<unknown>) {
				await db.schema
					.alterTable("tokens")
					.addColumn("kind", "text", (c) => c.notNull().defaultTo("personal"))
					.execute();
				await db.schema
					.createTable("groups")
					.addColumn("id", "text", (c) => c.primaryKey())
					.addColumn("name", "text", (c) => c.notNull().unique())
					.addColumn("created_at", "text", (c) => c.notNull())
					.execute();
				await db.schema
					.createTable("memberships")
					.addColumn("user_id", "text", (c) => c.notNull().references("users.id").onDelete("cascade"))
					.addColumn("group_id", "text", (c) => c.notNull().references("groups.id").onDelete("cascade"))
					.addColumn("refreshed_at", "text", (c) => c.notNull())
					.addPrimaryKeyConstraint("memberships_pk", ["user_id", "group_id"])
					.execute();
				await db.schema.createIndex("memberships_group").on("memberships").column("group_id").execute();
				await db.schema
					.createTable("identities")
					.addColumn("id", "text", (c) => c.primaryKey())
					.addColumn("issuer", "text", (c) => c.notNull())
					.addColumn("subject", "text", (c) => c.notNull())
					.addColumn("user_id", "text", (c) => c.notNull().references("users.id").onDelete("cascade"))
					.addColumn("created_at", "text", (c) => c.notNull())
					.addColumn("last_login_at", "text", (c) => c.notNull())
					.addUniqueConstraint("identities_subject", ["issuer", "subject"])
					.execute();
				await db.schema.createIndex("identities_user").on("identities").column("user_id").execute();
				await db.schema
					.createTable("sessions")
					.addColumn("id", "text", (c) => c.primaryKey())
					.addColumn("hash", "text", (c) => c.notNull().unique())
					.addColumn("user_id", "text", (c) => c.notNull().references("users.id").onDelete("cascade"))
					.addColumn("created_at", "text", (c) => c.notNull())
					.addColumn("expires_at", "text", (c) => c.notNull())
					.addColumn("last_seen_at", "text")
					.addColumn("revoked_at", "text")
					.execute();
				await db.schema.createIndex("sessions_user").on("sessions").column("user_id").execute();
				await db.schema
					.createTable("shares")
					.addColumn("id", "text", (c) => c.primaryKey())
					.addColumn("owner_id", "text", (c) => c.notNull().references("users.id").onDelete("cascade"))
					.addColumn("workflow_id", "text", (c) => c.references("workflows.id").onDelete("cascade"))
					.addColumn("workflow_name", "text", (c) => c.notNull())
					.addColumn("target_user_id", "text", (c) => c.references("users.id").onDelete("cascade"))
					.addColumn("target_group_id", "text", (c) => c.references("groups.id").onDelete("cascade"))
					.addColumn("scope_key", "text", (c) => c.notNull())
					.addColumn("target_key", "text", (c) => c.notNull())
					.addColumn("permission", "text", (c) => c.notNull())
					.addColumn("expires_at", "text")
					.addColumn("message", "text")
					.addColumn("created_by", "text", (c) => c.notNull())
					.addColumn("created_at", "text", (c) => c.notNull())
					.addUniqueConstraint("shares_scope_target", ["scope_key", "target_key"])
					.execute();
				await db.schema.createIndex("shares_target_user").on("shares").column("target_user_id").execute();
				await db.schema.createIndex("shares_target_group").on("shares").column("target_group_id").execute();
				await db.schema.createIndex("shares_workflow").on("shares").column("workflow_id").execute();
				await db.schema.createIndex("shares_owner_name").on("shares").columns(["owner_id", "workflow_name"]).execute();
				await db.schema
					.createTable("audit_events")
					.addColumn("id", sql.raw(autoId), (c) =>
						dialect === "postgres" ? c.primaryKey() : c.primaryKey().autoIncrement(),
					)
					.addColumn("at", "text", (c) => c.notNull())
					.addColumn("type", "text", (c) => c.notNull())
					.addColumn("actor_id", "text")
					.addColumn("actor", "text")
					.addColumn("ip", "text")
					.addColumn("target", "text")
					.addColumn("message", "text", (c) => c.notNull())
					.execute();
				await db.schema.createIndex("audit_events_at").on("audit_events").column("at").execute();
				await db.schema.createIndex("audit_events_type").on("audit_events").columns(["type", "id"]).execute();
			},
		},
		"0003_reana": reanaMigration(dialect),
		"0004_staging": stagingMigration(dialect),
		"0005_interactive_sessions": {
			async up(db: Kysely<unknown>) {
				await db.schema
					.createTable("interactive_sessions")
					.addColumn("workflow_id", "text", (c) => c.primaryKey().references("workflows.id").onDelete("cascade"))
					.addColumn("id", "text", (c) => c.notNull().unique())
					.addColumn("type", "text", (c) => c.notNull())
					.addColumn("status", "text", (c) => c.notNull())
					.addColumn("host", "text", (c) => c.notNull())
					.addColumn("port", "integer")
					.addColumn("pid", "integer")
					.addColumn("token_sealed", "text", (c) => c.notNull())
					.addColumn("message", "text")
					.addColumn("created_at", "text", (c) => c.notNull())
					.addColumn("updated_at", "text", (c) => c.notNull())
					.execute();
			},
		},
		"0006_provenance_and_cache": {
			async up(db: Kysely<unknown>) {
				// The SHA-256 of each workflow file a run read (JSON {path: sha256}), recorded when it started.
				await db.schema.alterTable("workflows").addColumn("workflow_files", "text").execute();
				// The job whose results a cached job reused (CACHE=on).
				await db.schema.alterTable("jobs").addColumn("cached_from", "text").execute();
				// What a finished job changed in its workspace, under the key of what it ran on what (CACHE=on).
				await db.schema
					.createTable("job_cache")
					.addColumn("job_id", "text", (c) => c.primaryKey().references("jobs.id").onDelete("cascade"))
					.addColumn("owner_id", "text", (c) => c.notNull())
					.addColumn("cache_key", "text", (c) => c.notNull())
					.addColumn("workspace_path", "text", (c) => c.notNull())
					.addColumn("changes", "text", (c) => c.notNull())
					.addColumn("created_at", "text", (c) => c.notNull())
					.execute();
				await db.schema.createIndex("job_cache_key").on("job_cache").columns(["owner_id", "cache_key"]).execute();
			},
		},
	};
}

class InlineMigrations implements MigrationProvider {
	constructor(private readonly dialect: DialectName) {}
	async getMigrations(): Promise<Record<string, Migration>> {
		return migrations(this.dialect);
	}
}

/**
 * Brings the schema to the latest version; safe to run at every start and from several processes.
 * On PostgreSQL the migration tables are placed in the schema in use: Kysely otherwise finds them by
 * name in any schema and would skip creating its own when another schema of the database has them.
 */
export async function migrateToLatest(db: Kysely<unknown>, dialect: DialectName): Promise<string[]> {
	let migrationTableSchema: string | undefined;
	if (dialect === "postgres") {
		const { rows } = await sql<{ schema: string }>`select current_schema() as schema`.execute(db);
		migrationTableSchema = rows[0]?.schema;
	}
	const migrator = new Migrator({
		db,
		provider: new InlineMigrations(dialect),
		// Migrations were developed in parallel and landed out of name order (0003 before 0002): a
		// database that has a later one still gets an earlier one it lacks.
		allowUnorderedMigrations: true,
		...(migrationTableSchema ? { migrationTableSchema } : {}),
	});
	const { error, results } = await migrator.migrateToLatest();
	if (error) {
		const failed = results?.find((r) => r.status === "Error")?.migrationName;
		const reason = error instanceof Error ? error.message : String(error);
		throw new AppError("internal", `database migration${failed ? ` ${failed}` : ""} failed: ${reason}`, {
			cause: error,
		});
	}
	return (results ?? []).filter((r) => r.status === "Success").map((r) => r.migrationName);
}
