import {
	type DatabaseIntrospector,
	type DatabaseMetadata,
	type DatabaseMetadataOptions,
	DEFAULT_MIGRATION_LOCK_TABLE,
	DEFAULT_MIGRATION_TABLE,
	type Kysely,
	PostgresDialect,
	type SchemaMetadata,
	sql,
	type TableMetadata,
} from "kysely";

/**
 * PostgreSQL as Kysely speaks it, except that introspection sees only the schema in use.
 *
 * Kysely's own introspector (which its migrator calls at every start) reads every table of the
 * database and resolves each schema and column by name while doing so; when another client drops a
 * schema or a table meanwhile, that lookup fails ("schema … does not exist") and so does the start.
 * A server sharing its database with others (or with tests that drop their schemas) must not fail
 * for that: this one reads only `current_schema()`, through object identifiers, which a concurrent
 * drop cannot turn into an error.
 */
export class CurrentSchemaPostgresDialect extends PostgresDialect {
	override createIntrospector(db: Kysely<unknown>): DatabaseIntrospector {
		return new CurrentSchemaIntrospector(db);
	}
}

interface ColumnRow {
	table: string;
	schema: string;
	table_type: string;
	column: string;
	not_null: boolean;
	has_default: boolean;
	type: string;
	type_schema: string;
	comment: string | null;
	auto_incrementing: boolean;
}

export class CurrentSchemaIntrospector implements DatabaseIntrospector {
	constructor(private readonly db: Kysely<unknown>) {}

	async getSchemas(): Promise<SchemaMetadata[]> {
		const { rows } = await sql<{ name: string }>`select nspname as name from pg_catalog.pg_namespace`.execute(this.db);
		return rows.map((r) => ({ name: r.name }));
	}

	async getTables(options: DatabaseMetadataOptions = { withInternalKyselyTables: false }): Promise<TableMetadata[]> {
		const { rows } = await sql<ColumnRow>`
			select c.relname as table, ns.nspname as schema, c.relkind as table_type,
				a.attname as column, a.attnotnull as not_null, a.atthasdef as has_default,
				typ.typname as type, tns.nspname as type_schema,
				col_description(c.oid, a.attnum) as comment,
				(a.attidentity <> '' or exists (
					select 1 from pg_catalog.pg_depend d
					join pg_catalog.pg_class s on s.oid = d.objid and s.relkind = 'S'
					where d.refclassid = 'pg_catalog.pg_class'::regclass and d.refobjid = c.oid
						and d.refobjsubid = a.attnum and d.classid = 'pg_catalog.pg_class'::regclass
						and d.deptype in ('a', 'i')
				)) as auto_incrementing
			from pg_catalog.pg_class c
			join pg_catalog.pg_namespace ns on ns.oid = c.relnamespace
			join pg_catalog.pg_attribute a on a.attrelid = c.oid
			join pg_catalog.pg_type typ on typ.oid = a.atttypid
			join pg_catalog.pg_namespace tns on tns.oid = typ.typnamespace
			where ns.nspname = current_schema()
				and c.relkind in ('r', 'v', 'p')
				and a.attnum > 0 and not a.attisdropped
			order by c.relname, a.attnum`.execute(this.db);
		const tables = new Map<string, TableMetadata & { columns: TableMetadata["columns"][number][] }>();
		for (const row of rows) {
			const internal = row.table === DEFAULT_MIGRATION_TABLE || row.table === DEFAULT_MIGRATION_LOCK_TABLE;
			if (internal && !options.withInternalKyselyTables) continue;
			let table = tables.get(row.table);
			if (!table) {
				table = { name: row.table, schema: row.schema, isView: row.table_type === "v", columns: [] };
				tables.set(row.table, table);
			}
			table.columns.push({
				name: row.column,
				dataType: row.type,
				dataTypeSchema: row.type_schema,
				isNullable: !row.not_null,
				hasDefaultValue: row.has_default,
				isAutoIncrementing: row.auto_incrementing,
				...(row.comment === null ? {} : { comment: row.comment }),
			});
		}
		return [...tables.values()];
	}

	async getMetadata(options?: DatabaseMetadataOptions): Promise<DatabaseMetadata> {
		return { tables: await this.getTables(options) };
	}
}
