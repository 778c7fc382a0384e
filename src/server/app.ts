import swagger from "@fastify/swagger";
import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from "fastify";
import { apiVersion } from "../contract/index.js";
import { installAuthHook } from "./auth-hook.js";
import { installErrorHandler } from "./error-handler.js";
import { installSessionsOrigin } from "./interactive/sessions-origin.js";
import { lazySchemaCompilers } from "./lazy-schema-compilers.js";
import { installMetrics } from "./metrics.js";
import { accountRoutes } from "./routes/account-routes.js";
import { auditRoutes } from "./routes/audit-routes.js";
import { clusterRoutes } from "./routes/cluster-routes.js";
import { deviceLoginRoutes } from "./routes/device-login-routes.js";
import { logRoutes } from "./routes/log-routes.js";
import { oidcRoutes } from "./routes/oidc-routes.js";
import { provenanceRoutes } from "./routes/provenance-routes.js";
import { quotaRoutes } from "./routes/quota-routes.js";
import { reanaTokenRoutes } from "./routes/reana-token-routes.js";
import { runHistoryRoutes } from "./routes/run-history-routes.js";
import { secretRoutes } from "./routes/secret-routes.js";
import { shareRoutes } from "./routes/share-routes.js";
import { tokenRoutes } from "./routes/token-routes.js";
import { transferRoutes } from "./routes/transfer-routes.js";
import { workflowRoutes } from "./routes/workflow-routes.js";
import { workspaceOpsRoutes } from "./routes/workspace-ops-routes.js";
import { workspaceRoutes } from "./routes/workspace-routes.js";
import type { ServerContext } from "./server-context.js";
import { installStaticUi } from "./static-ui.js";

/** Builds the HTTP application (not listening yet). */
export async function buildApp(ctx: ServerContext): Promise<FastifyInstance> {
	const app = Fastify({
		loggerInstance: ctx.logger as FastifyBaseLogger,
		logController: new LogController({ disableRequestLogging: true }),
		bodyLimit: 10 * 1024 * 1024,
		// On shutdown, close kept-alive connections too: an idle client must not hold the server open
		// (its jobs keep running and are picked up at the next start anyway).
		forceCloseConnections: true,
		// Only behind a proxy the operator names: otherwise X-Forwarded-For would let a client choose its address.
		trustProxy: ctx.config.trustProxy ?? false,
		routerOptions: { ignoreTrailingSlash: true, maxParamLength: 2000 },
		// The route schemas are checked against JSON Schema's meta-schema by a test
		// (src/contract/schemas-valid.test.ts), not at every start: that check cost ~35 ms of each.
		ajv: {
			customOptions: { coerceTypes: "array", removeAdditional: false, useDefaults: true, validateSchema: false },
		},
		schemaController: { compilersFactory: lazySchemaCompilers },
	});
	// Uploads stream from the raw request; nothing is buffered.
	app.addContentTypeParser("application/octet-stream", (_request, _payload, done) => done(null, undefined));
	app.addContentTypeParser("*", (_request, _payload, done) => done(null, undefined));
	installErrorHandler(app);
	await app.register(swagger, {
		// The interactive sessions' proxy serves Jupyter's own pages and API, not Orrery's.
		transform: ({ schema, url }) => ({ schema: url.startsWith("/sessions") ? { ...schema, hide: true } : schema, url }),
		openapi: {
			info: { title: "Orrery API", version: apiVersion.orrery, description: "REANA-compatible workflow API" },
			components: {
				securitySchemes: {
					access_token: { type: "apiKey", in: "query", name: "access_token" },
					bearer: { type: "http", scheme: "bearer" },
				},
			},
		},
	});
	// Before authentication: the sessions' host name answers nothing but the sessions.
	if (!ctx.config.embedded) installSessionsOrigin(app, ctx.config);
	installAuthHook(app, ctx);
	// What the API sends is data, never a page or a script of this origin: a workspace file (which a job
	// or a user wrote) must not run even if some page here came to include it.
	app.addHook("onSend", async (request, reply, payload) => {
		if (request.url.startsWith("/api/")) {
			reply.header("x-content-type-options", "nosniff");
			reply.header("content-security-policy", "default-src 'none'; sandbox");
		}
		return payload;
	});
	// The embedded server of a single CLI command has no one to scrape it (and skips loading prom-client).
	if (ctx.config.metrics !== false) await installMetrics(app, ctx);
	accountRoutes(app, ctx);
	workflowRoutes(app, ctx);
	workspaceRoutes(app, ctx);
	transferRoutes(app, ctx);
	logRoutes(app, ctx);
	tokenRoutes(app, ctx);
	oidcRoutes(app, ctx);
	deviceLoginRoutes(app, ctx);
	shareRoutes(app, ctx);
	auditRoutes(app, ctx);
	reanaTokenRoutes(app, ctx);
	secretRoutes(app, ctx);
	quotaRoutes(app, ctx);
	workspaceOpsRoutes(app, ctx);
	runHistoryRoutes(app, ctx);
	provenanceRoutes(app, ctx);
	clusterRoutes(app, ctx);
	// An embedded server ends with its command: sessions are reached at their own address instead.
	if (!ctx.config.embedded) await (await import("./interactive/session-proxy.js")).sessionProxy(app, ctx);
	app.get("/api/openapi.json", { schema: { hide: true }, config: { isPublic: true } }, async () => app.swagger());
	installStaticUi(app);
	return app;
}
