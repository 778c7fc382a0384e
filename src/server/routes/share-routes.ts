import type { FastifyInstance } from "fastify";
import { recordAudit, shareWorkflow, targetLabel, unshareWorkflow } from "../../auth/index.js";
import { AppError } from "../../common/index.js";
import { listGroupsOfUser, listSharesByOwner, listSharesOfRun, listSharesReaching } from "../../db/index.js";
import { runName } from "../../scheduler/index.js";
import { handle } from "../route-kit.js";
import type { ServerContext } from "../server-context.js";
import { findAccessibleRun } from "./shared-runs.js";

/** REANA 0.95's sharing endpoints, extended with groups, a `run` permission and all runs of a name. */
export function shareRoutes(app: FastifyInstance, ctx: ServerContext): void {
	handle(app, "share_workflow", async ({ principal, params, body, raw }) => {
		const wf = await findAccessibleRun(ctx, principal, params.workflow_id_or_name, "workflow.share");
		if (!principal) throw new AppError("unauthenticated", "no access token given");
		const { share, label } = await shareWorkflow(
			ctx.db,
			principal,
			wf,
			{
				userEmail: body.user_email_to_share_with,
				group: body.group,
				permission: body.permission,
				validUntil: body.valid_until,
				message: body.message,
				allRuns: body.all_runs,
			},
			ctx.clock,
		);
		const what = share.workflow_id ? runName(wf) : `${wf.name} (all runs)`;
		const until = share.expires_at ? ` until ${share.expires_at}` : "";
		await recordAudit(ctx.db, ctx.clock, {
			type: "share_added",
			principal,
			ip: raw.ip,
			target: wf.id,
			message: `${what} shared with ${label} (${share.permission}${until})`,
		});
		return {
			message: `The workflow ${what} has been shared with ${label} (${share.permission}${until}).`,
			workflow_id: wf.id,
			workflow_name: runName(wf),
		};
	});

	handle(app, "unshare_workflow", async ({ principal, params, query, raw }) => {
		const wf = await findAccessibleRun(ctx, principal, params.workflow_id_or_name, "workflow.share");
		if (!principal) throw new AppError("unauthenticated", "no access token given");
		const { share, label } = await unshareWorkflow(ctx.db, wf, {
			userEmail: query.user_email_to_unshare_with,
			group: query.group,
			allRuns: query.all_runs,
		});
		const what = share.workflow_id ? runName(wf) : `${wf.name} (all runs)`;
		await recordAudit(ctx.db, ctx.clock, {
			type: "share_removed",
			principal,
			ip: raw.ip,
			target: wf.id,
			message: `${what} no longer shared with ${label}`,
		});
		return {
			message: `The workflow ${what} is no longer shared with ${label}.`,
			workflow_id: wf.id,
			workflow_name: runName(wf),
		};
	});

	handle(app, "get_workflow_share_status", async ({ principal, params }) => {
		const wf = await findAccessibleRun(ctx, principal, params.workflow_id_or_name, "workflow.share");
		const now = ctx.clock.now().getTime();
		const shares = (await listSharesOfRun(ctx.db, wf)).filter(
			(s) => s.expires_at === null || Date.parse(s.expires_at) > now,
		);
		return {
			workflow_id: wf.id,
			workflow_name: runName(wf),
			shared_with: shares.map((s) => ({
				user_email: targetLabel(s),
				group: s.target_group,
				permission: s.permission,
				valid_until: s.expires_at,
				message: s.message,
				all_runs: s.workflow_id === null,
				created_at: s.created_at,
			})),
		};
	});

	handle(app, "get_users_shared_with_you", async ({ principal }) => {
		if (!principal) throw new AppError("unauthenticated", "no access token given");
		const shares = await listSharesReaching(
			ctx.db,
			principal.user.id,
			principal.groupIds,
			ctx.clock.now().toISOString(),
		);
		const emails = new Set(shares.map((s) => s.owner_email).filter((e) => e !== principal.user.email));
		const groups = new Set(shares.flatMap((s) => (s.target_group ? [s.target_group] : [])));
		return {
			users: [...emails].sort().map((email) => ({ email })),
			groups: [...groups].sort().map((name) => ({ name })),
		};
	});

	handle(app, "get_users_you_shared_with", async ({ principal }) => {
		if (!principal) throw new AppError("unauthenticated", "no access token given");
		const shares = await listSharesByOwner(ctx.db, principal.user.id, ctx.clock.now().toISOString());
		const emails = new Set(shares.flatMap((s) => (s.target_email ? [s.target_email] : [])));
		const groups = new Set(shares.flatMap((s) => (s.target_group ? [s.target_group] : [])));
		return {
			users: [...emails].sort().map((email) => ({ email })),
			groups: [...groups].sort().map((name) => ({ name })),
		};
	});

	handle(app, "get_your_groups", async ({ principal }) => {
		if (!principal) throw new AppError("unauthenticated", "no access token given");
		const groups = await listGroupsOfUser(ctx.db, principal.user.id);
		return { items: groups.map((g) => ({ name: g.name })) };
	});
}
