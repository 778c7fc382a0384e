import type { FastifyInstance } from "fastify";
import type { Static } from "typebox";
import { AppError } from "../../common/index.js";
import type { QuotaReport } from "../../contract/schemas.js";
import {
	type Db,
	findUserByEmail,
	findUserById,
	listQuotas,
	type QuotaResource,
	quotaResources,
	setQuotaLimit,
	type UserRow,
} from "../../db/index.js";
import { recomputeUsage } from "../../scheduler/index.js";
import { humanSize } from "../human-size.js";
import { handle } from "../route-kit.js";
import type { ServerContext } from "../server-context.js";

/** A CPU time in REANA's human form (`1h 2m 3s`). */
export function humanDuration(ms: number): string {
	const s = Math.round(ms / 1000);
	const parts = [
		[Math.floor(s / 3600), "h"],
		[Math.floor((s % 3600) / 60), "m"],
		[s % 60, "s"],
	] as const;
	const text = parts
		.filter(([n]) => n > 0)
		.map(([n, u]) => `${n}${u}`)
		.join(" ");
	return text || "0s";
}

/** The quota part of GET /api/you: usage, limit and a health word per resource. */
export async function quotaReport(db: Db, userId: string): Promise<Static<typeof QuotaReport>> {
	const rows = new Map((await listQuotas(db, userId)).map((q) => [q.resource, q]));
	const report = (resource: QuotaResource) => {
		const q = rows.get(resource) ?? { usage: 0, limit: 0 };
		const human = resource === "cpu" ? humanDuration : humanSize;
		const ratio = q.limit > 0 ? q.usage / q.limit : 0;
		return {
			usage: { raw: q.usage, human_readable: human(q.usage) },
			limit: { raw: q.limit, human_readable: q.limit > 0 ? human(q.limit) : "unlimited" },
			health: ratio >= 1 ? "critical" : ratio >= 0.8 ? "warning" : "healthy",
		};
	};
	return { cpu: report("cpu"), disk: report("disk") };
}

async function targetUser(db: Db, who: { user_id?: string | undefined; email?: string | undefined }): Promise<UserRow> {
	const user = who.user_id
		? await findUserById(db, who.user_id)
		: who.email
			? await findUserByEmail(db, who.email)
			: undefined;
	if (!user) throw new AppError("not_found", `no user ${who.user_id ?? who.email ?? "given"}; pass user_id or email`);
	return user;
}

function resourceOf(value: string | undefined): QuotaResource {
	if (!(quotaResources as readonly string[]).includes(value ?? "")) {
		throw new AppError("validation_failed", `resource_type must be one of ${quotaResources.join(", ")}`);
	}
	return value as QuotaResource;
}

/** REANA's quota management endpoints (administrators, or the X-Quota-Management-Secret header). */
export function quotaRoutes(app: FastifyInstance, ctx: ServerContext): void {
	const answer = async (user: UserRow, resource: QuotaResource, message: string) => {
		const q = (await listQuotas(ctx.db, user.id)).find((r) => r.resource === resource) ?? { usage: 0, limit: 0 };
		return { message, usage: q.usage, limit: q.limit };
	};

	handle(app, "get_quota_usage", async ({ query }) => {
		const user = await targetUser(ctx.db, query);
		const resource = resourceOf(query.resource_type);
		return answer(user, resource, `${resource} quota of ${user.email}`);
	});

	handle(app, "set_quota_limit", async ({ body }) => {
		const user = await targetUser(ctx.db, body);
		const resource = resourceOf(body.resource_type);
		await setQuotaLimit(ctx.db, user.id, resource, body.limit, new Date().toISOString());
		return answer(user, resource, `${resource} quota limit of ${user.email} set to ${body.limit}`);
	});

	handle(app, "patch_quota", async ({ body }) => {
		const user = await targetUser(ctx.db, body);
		const resource = body.resource_type === undefined ? "cpu" : resourceOf(body.resource_type);
		if (body.limit !== undefined) await setQuotaLimit(ctx.db, user.id, resource, body.limit, new Date().toISOString());
		await recomputeUsage(ctx.db, ctx.clock, user.id);
		return answer(user, resource, `usage of ${user.email} recomputed`);
	});
}
