import { join } from "node:path";
import type { FastifyInstance } from "fastify";
import { authorize } from "../../auth/index.js";
import { apiVersion } from "../../contract/index.js";
import { listTokens } from "../../db/index.js";
import { handle } from "../route-kit.js";
import type { ServerContext } from "../server-context.js";
import { quotaReport } from "./quota-routes.js";

/** REANA's names for Orrery's backends, reported by /api/info so REANA specs that use them validate. */
export const reanaBackendAliases: Record<string, string> = {
	kubernetes: "kubernetes",
	slurmcern: "slurm",
	htcondorcern: "htcondor",
	compute4punch: "htcondor",
};

/** ping, you and info. */
export function accountRoutes(app: FastifyInstance, ctx: ServerContext): void {
	handle(app, "ping", async () => ({ message: "OK", status: "200" }));

	handle(app, "get_you", async ({ principal }) => {
		authorize(principal, "user.read");
		const { user } = principal;
		const tokens = await listTokens(ctx.db, user.id);
		const current = tokens.find((t) => t.id === principal.tokenId) ?? tokens[0];
		return {
			id: user.id,
			email: user.email,
			full_name: user.full_name ?? "",
			username: user.email,
			role: user.role,
			reana_server_version: apiVersion.reana,
			quota: await quotaReport(ctx.db, user.id),
			// The value is never stored, so only its prefix can be shown.
			reana_token: {
				value: current ? `${current.prefix}…` : "",
				status: current && !current.revoked_at ? "active" : principal.tokenId === null ? "session" : "revoked",
				requested_at: current?.created_at ?? user.created_at,
			},
		};
	});

	handle(app, "info", async ({ principal }) => {
		authorize(principal, "user.read");
		const { backends, containerRuntime, engines } = ctx.capabilities;
		const names = [...backends];
		for (const [alias, target] of Object.entries(reanaBackendAliases)) {
			if (backends.includes(target) && !names.includes(alias)) names.push(alias);
		}
		const workspace = workspaceShownTo(ctx, principal.user);
		return {
			compute_backends: { title: "List of supported compute backends", value: names },
			default_workspace: { title: "Default workspace", value: workspace },
			workspaces_available: { title: "List of available workspaces", value: [workspace] },
			supported_workflow_engines: { title: "List of supported workflow engines", value: engines },
			orrery_version: { title: "Orrery version", value: apiVersion.orrery },
			container_runtime: { title: "Container runtime of the local backend", value: containerRuntime ?? "none" },
			maximum_interactive_session_inactivity_period: {
				title: "Maximum inactivity period in days before automatic closure of interactive sessions",
				value: ctx.config.sessionMaxIdleDays > 0 ? String(ctx.config.sessionMaxIdleDays) : null,
			},
		};
	});
}

/**
 * Where the user's workspaces are made: the workspace root, or with a root template the user's own
 * folder (the template itself when the user's email cannot name a folder: creating a run says why).
 */
function workspaceShownTo(ctx: ServerContext, user: { id: string; email: string }): string {
	const { workspaces } = ctx;
	if (!workspaces.rootTemplate) return ctx.config.workspaceRoot;
	try {
		return join(workspaces.userFolder(user), "workflows");
	} catch {
		return join(workspaces.rootTemplate, "workflows");
	}
}
