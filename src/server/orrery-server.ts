import { randomBytes } from "node:crypto";
import { join } from "node:path";
import type { FastifyInstance } from "fastify";
import { ensureUser, hashToken } from "../auth/index.js";
import { type ComputeBackend, createBackends, LocalBackend } from "../backends/index.js";
import { type Clock, type Logger, systemClock } from "../common/index.js";
import type { ServerConfig } from "../config/index.js";
import { type Db, openDatabase, type UserRow } from "../db/index.js";
import { builtInEngines } from "../engines/index.js";
import { type RunsDeps, Scheduler } from "../scheduler/index.js";
import { loadSecretKey, secretBox, secretsForJobs } from "../secrets/index.js";
import { Workspaces } from "../storage/index.js";
import { buildApp } from "./app.js";
import { InteractiveSessions } from "./interactive/interactive-sessions.js";
import { createLogger } from "./logger.js";
import { reanaBackendAliases } from "./routes/account-routes.js";
import type { ServerContext } from "./server-context.js";
import { checkWorkspaceRoots } from "./workspace-roots-check.js";

/** Options for opening a server. */
export interface OrreryServerOptions {
	config: ServerConfig;
	logger?: Logger;
	clock?: Clock;
	/** Backends to use instead of the configured ones (tests wrap real backends to inject faults). */
	backends?: Map<string, ComputeBackend>;
	/** Run the scheduler loop (default true). */
	runScheduler?: boolean;
	/**
	 * How long the scheduler sleeps when nothing woke it (default 500 ms). Every event that matters
	 * wakes it; tests lengthen the sleep to show that no decision waits for it.
	 */
	schedulerIdleMs?: number;
	/** How often sessions that ended by themselves are looked for (default a minute). */
	sessionSweepMs?: number;
}

/** The whole server: database, backends, scheduler and HTTP app, with one lifecycle. */
export class OrreryServer {
	private url: string | undefined;
	/** The minute's check for interactive sessions that ended by themselves. */
	private sessionSweep: NodeJS.Timeout | undefined;

	private constructor(
		readonly ctx: ServerContext,
		readonly app: FastifyInstance,
		private readonly backends: Map<string, ComputeBackend>,
	) {}

	/** Opens the database (migrating it), creates the backends and the scheduler, and builds the app. */
	static async open(options: OrreryServerOptions): Promise<OrreryServer> {
		const { config } = options;
		const logger = options.logger ?? createLogger({ level: config.logLevel });
		const clock = options.clock ?? systemClock;
		const db = await openDatabase({
			url: config.databaseUrl,
			...(config.databaseSchema ? { schema: config.databaseSchema } : {}),
		});
		let backends: Map<string, ComputeBackend>;
		try {
			// ORRERY_BACKENDS_FILE lists the backends (each checked against its plug-in's schema); without
			// it, one local backend from settings readServerConfig has already checked.
			backends =
				options.backends ??
				(config.backends
					? await createBackends(
							config.backends,
							config.backendsFile ? `ORRERY_BACKENDS_FILE=${config.backendsFile}` : undefined,
						)
					: new Map<string, ComputeBackend>([
							[
								"local",
								await LocalBackend.create({
									containerRuntime: config.containerRuntime,
									...(config.localMaxActiveJobs ? { maxActiveJobs: config.localMaxActiveJobs } : {}),
								}),
							],
						]));
		} catch (error) {
			await db.close();
			throw error;
		}
		try {
			for (const warning of checkWorkspaceRoots(config, backends)) logger.warn(warning);
		} catch (error) {
			await Promise.all([...backends.values()].map((b) => b.close()));
			await db.close();
			throw error;
		}
		const engines = builtInEngines();
		const box = secretBox(await loadSecretKey(config.secretKey, join(config.home, "secret.key")));
		const workspaces = new Workspaces({ root: config.workspaceRoot, rootTemplate: config.workspaceRootTemplate });
		const scheduler = new Scheduler(
			{
				instanceId: config.instanceId,
				leaseMs: 30_000,
				idleMs: options.schedulerIdleMs ?? 500,
				maxWorkflowsPerTick: 200,
				defaultBackend: config.defaultBackend,
				backendAliases: reanaBackendAliases,
				staging: config.staging,
			},
			{ db, backends, engines, clock, logger, secretsOf: (userId) => secretsForJobs(db, box, userId) },
		);
		const runs: RunsDeps = {
			db,
			workspaces,
			engines,
			clock,
			wake: () => scheduler.wake({ claim: true }),
			checkStaging: (wf) => scheduler.checkStaging(wf),
		};
		const local = backends.get("local");
		const interactive = new InteractiveSessions({ db, clock, secretBox: box, config, logger });
		const ctx: ServerContext = {
			db,
			workspaces,
			scheduler,
			runs,
			clock,
			config,
			logger,
			sessionTokens: new Map(),
			secretBox: box,
			interactive,
			capabilities: {
				backends: [...backends.keys()],
				containerRuntime: local?.capabilities.containerRuntime ?? null,
				engines: [...engines.keys()],
			},
		};
		const app = await buildApp(ctx);
		const server = new OrreryServer(ctx, app, backends);
		if (options.runScheduler !== false) {
			await interactive.recover();
			server.sessionSweep = setInterval(() => {
				interactive.sweep().catch((error: unknown) => logger.warn({ err: error }, "interactive session sweep failed"));
			}, options.sessionSweepMs ?? 60_000);
			server.sessionSweep.unref();
		}
		if (options.runScheduler !== false) scheduler.start();
		return server;
	}

	/** The database (for admin commands and tests). */
	get db(): Db {
		return this.ctx.db;
	}

	/** Starts listening; returns the base URL. */
	async listen(host = this.ctx.config.host, port = this.ctx.config.port): Promise<string> {
		await this.app.listen({ host, port });
		const address = this.app.server.address();
		const actual = typeof address === "object" && address ? address.port : port;
		this.url = `http://${host.includes(":") ? `[${host}]` : host}:${actual}`;
		return this.url;
	}

	/** A credential for one user that lives only as long as this process (the embedded CLI's session). */
	createSessionToken(user: UserRow): string {
		const value = `orr_session_${randomBytes(24).toString("base64url")}`;
		this.ctx.sessionTokens.set(hashToken(value), user.id);
		return value;
	}

	/** Ensures the single user of an embedded (laptop) server exists. */
	async localUser(): Promise<UserRow> {
		return ensureUser(this.ctx.db, { email: "you@localhost", fullName: "Local user", role: "admin" }, this.ctx.clock);
	}

	/** Stops the scheduler (jobs keep running), the HTTP server, the backends and the database. */
	async close(): Promise<void> {
		clearInterval(this.sessionSweep);
		await this.ctx.scheduler.stop();
		await this.app.close();
		for (const b of this.backends.values()) await b.close();
		await this.ctx.db.close();
	}
}
