import type { FastifyInstance } from "fastify";
import { auditEventTypes, authorize } from "../../auth/index.js";
import { AppError } from "../../common/index.js";
import { listAuditEvents } from "../../db/index.js";
import { handle } from "../route-kit.js";
import type { ServerContext } from "../server-context.js";

/** The audit log of security events, for administrators. */
export function auditRoutes(app: FastifyInstance, ctx: ServerContext): void {
	handle(app, "get_audit_log", async ({ principal, query }) => {
		authorize(principal, "admin");
		const types = (Array.isArray(query.type) ? query.type : query.type ? query.type.split(",") : [])
			.map((t) => t.trim())
			.filter(Boolean);
		for (const t of types) {
			if (!(auditEventTypes as readonly string[]).includes(t)) {
				throw new AppError("validation_failed", `unknown event type '${t}'; use ${auditEventTypes.join(", ")}`);
			}
		}
		if (query.since && Number.isNaN(Date.parse(query.since))) {
			throw new AppError("validation_failed", `since '${query.since}' is not an ISO date-time`);
		}
		const rows = await listAuditEvents(ctx.db, {
			types,
			...(query.after !== undefined ? { afterId: query.after } : {}),
			...(query.since ? { since: new Date(query.since).toISOString() } : {}),
			limit: query.limit ?? 100,
		});
		return {
			items: rows.map((r) => ({
				id: r.id,
				at: r.at,
				type: r.type,
				actor: r.actor,
				ip: r.ip,
				target: r.target,
				message: r.message,
			})),
		};
	});
}
