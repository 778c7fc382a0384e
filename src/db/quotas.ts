import type { Db } from "./connection.js";
import type { QuotaResource } from "./schema.js";

/** A user's limit and usage of one resource (numbers, whatever the driver returned). */
export interface QuotaRow {
	resource: QuotaResource;
	limit: number;
	usage: number;
}

/** The quotas recorded for a user (resources without a row have no limit and no usage yet). */
export async function listQuotas(db: Db, userId: string): Promise<QuotaRow[]> {
	const rows = await db.kysely.selectFrom("quotas").selectAll().where("user_id", "=", userId).execute();
	return rows.map((r) => ({ resource: r.resource, limit: Number(r.limit_raw), usage: Number(r.usage_raw) }));
}

/** Sets a user's limit of a resource (0: unlimited), keeping the usage. */
export async function setQuotaLimit(
	db: Db,
	userId: string,
	resource: QuotaResource,
	limit: number,
	at: string,
): Promise<void> {
	await db.kysely
		.insertInto("quotas")
		.values({ user_id: userId, resource, limit_raw: limit, usage_raw: 0, updated_at: at })
		.onConflict((oc) => oc.columns(["user_id", "resource"]).doUpdateSet({ limit_raw: limit, updated_at: at }))
		.execute();
}

/** Sets a user's usage of a resource (recomputed from the runs, so repeated updates agree). */
export async function setQuotaUsage(
	db: Db,
	userId: string,
	resource: QuotaResource,
	usage: number,
	at: string,
): Promise<void> {
	await db.kysely
		.insertInto("quotas")
		.values({ user_id: userId, resource, limit_raw: 0, usage_raw: Math.round(usage), updated_at: at })
		.onConflict((oc) =>
			oc.columns(["user_id", "resource"]).doUpdateSet({ usage_raw: Math.round(usage), updated_at: at }),
		)
		.execute();
}
