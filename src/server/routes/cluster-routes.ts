import type { FastifyInstance } from "fastify";
import { AppError } from "../../common/index.js";
import { apiVersion } from "../../contract/index.js";
import { runName } from "../../scheduler/index.js";
import { entryPath, entryTicketSeconds, issueEntryTicket } from "../interactive/entry-tickets.js";
import { credentialRefOf } from "../interactive/session-grant.js";
import { handle } from "../route-kit.js";
import type { ServerContext } from "../server-context.js";
import { runFor } from "./workflow-routes.js";

/** Server status and configuration, and REANA endpoints Orrery does not offer yet (501, saying so). */
export function clusterRoutes(app: FastifyInstance, ctx: ServerContext): void {
	handle(app, "status", async () => {
		const byStatus = await ctx.db.kysely
			.selectFrom("workflows")
			.select(["status", (eb) => eb.fn.countAll().as("n")])
			.groupBy("status")
			.execute();
		const wf = Object.fromEntries(byStatus.map((r) => [r.status, Number(r.n)]));
		const jobRows = await ctx.db.kysely
			.selectFrom("jobs")
			.select(["status", (eb) => eb.fn.countAll().as("n")])
			.where("status", "in", ["created", "queued", "running"])
			.groupBy("status")
			.execute();
		const jobs = Object.fromEntries(jobRows.map((r) => [r.status, Number(r.n)]));
		const running = wf.running ?? 0;
		const pending = (wf.pending ?? 0) + (wf.queued ?? 0);
		const jobsRunning = jobs.running ?? 0;
		const jobsPending = (jobs.created ?? 0) + (jobs.queued ?? 0);
		const health = (busy: number) => (busy > 100 ? "warning" : "healthy");
		const sessionRow = await ctx.db.kysely
			.selectFrom("interactive_sessions")
			.select((eb) => eb.fn.countAll().as("n"))
			.where("status", "=", "running")
			.executeTakeFirst();
		const activeSessions = Number(sessionRow?.n ?? 0);
		return {
			workflow: {
				queued: wf.queued ?? 0,
				pending,
				running,
				total: running + pending,
				available: 0,
				percentage: 0,
				sort: 1,
				health: health(running + pending),
			},
			job: {
				pending: jobsPending,
				running: jobsRunning,
				total: jobsPending + jobsRunning,
				available: 0,
				percentage: 0,
				sort: 2,
				health: health(jobsPending),
			},
			session: { active: activeSessions, sort: 3 },
		};
	});

	handle(app, "get_config", async () => ({
		orrery_version: apiVersion.orrery,
		reana_api_version: apiVersion.reana,
		compute_backends: ctx.capabilities.backends,
		workflow_engines: ctx.capabilities.engines,
		interactive_sessions: ctx.config.interactiveSessions !== "off",
		secrets: true,
		quotas: true,
	}));

	const unavailable = (what: string, instead: string) => async () => {
		throw new AppError("not_implemented", `${what} is not available on this Orrery server yet; ${instead}`);
	};
	// The run is looked up (and permission checked) first, so a wrong name is 404 and a foreign run 403, as for any route.
	handle(app, "open_interactive_session", async ({ principal, params, body }) => {
		const wf = await runFor(ctx, principal, params.workflow_id_or_name, "workflow.run");
		const setting = ctx.config.interactiveSessions;
		if (setting === "off") {
			throw new AppError(
				"not_implemented",
				"interactive sessions are turned off on this server (ORRERY_INTERACTIVE_SESSIONS=off); download the files and work on them locally (orrery download)",
			);
		}
		if (setting === "admins" && principal?.user.role !== "admin") {
			throw new AppError("forbidden", "on this server only administrators may open interactive sessions");
		}
		const { path, direct } = await ctx.interactive.open(wf, params.interactive_session_type, {
			image: body?.image ?? null,
		});
		return { path, ...(ctx.config.embedded ? { jupyter_url: direct } : {}) };
	});
	handle(app, "close_interactive_session", async ({ principal, params }) => {
		const wf = await runFor(ctx, principal, params.workflow_id_or_name, "workflow.run");
		if (!(await ctx.interactive.close(wf))) {
			throw new AppError("not_found", `workflow ${runName(wf)} has no open interactive session`);
		}
		return { message: "The interactive session has been closed" };
	});
	// A browser enters a session served at its own origin with a ticket, never with the user's credential.
	handle(app, "create_session_ticket", async ({ principal, params }) => {
		const wf = await runFor(ctx, principal, params.workflow_id_or_name, "workflow.run");
		if (!principal) throw new AppError("unauthenticated", "sign in first");
		if (ctx.config.interactiveSessions === "admins" && principal.user.role !== "admin")
			throw new AppError("forbidden", "on this server only administrators may use interactive sessions");
		if (ctx.config.embedded)
			throw new AppError(
				"not_implemented",
				"a command's own server does not serve sessions: use the address 'orrery open' prints",
			);
		const sessionId = ctx.config.interactiveSessions === "off" ? undefined : await ctx.interactive.openSessionOf(wf.id);
		if (!sessionId)
			throw new AppError("not_found", `workflow ${runName(wf)} has no open interactive session; open one first`);
		const ticket = issueEntryTicket(ctx.secretBox, ctx.clock, {
			sessionId,
			userId: principal.user.id,
			credential: credentialRefOf(principal),
		});
		const origin = ctx.config.sessionsUrl ?? ctx.config.publicUrl ?? "";
		return { url: `${origin}${entryPath(sessionId, ticket)}`, expires_in: entryTicketSeconds };
	});
	handle(app, "launch", unavailable("launching workflows from a URL", "clone the repository and use 'orrery run'"));
	for (const op of [
		"gitlab_oauth",
		"gitlab_connect",
		"gitlab_projects",
		"create_gitlab_webhook",
		"delete_gitlab_webhook",
	] as const) {
		handle(
			app,
			op,
			unavailable("the GitLab integration", "run workflows from CI with 'orrery run' and an access token"),
		);
	}
}
