import { randomBytes } from "node:crypto";
import { rm, stat } from "node:fs/promises";
import { hostname } from "node:os";
import { join } from "node:path";
import { AppError, isoNow, newId } from "../../common/index.js";
import {
	claimInteractiveSession,
	findInteractiveSession,
	findInteractiveSessionById,
	type InteractiveSessionRow,
	liveInteractiveSessions,
	updateInteractiveSession,
	type WorkflowRow,
} from "../../db/index.js";
import type { ServerContext } from "../server-context.js";
import { answers, isAlive, sessionBase, startJupyter, stopJupyter } from "./jupyter-process.js";

/** What the sessions need of the server. */
export type InteractiveSessionDeps = Pick<ServerContext, "db" | "clock" | "secretBox" | "config" | "logger">;

/** The kinds of interactive session a run can open. */
export const interactiveSessionTypes = ["jupyter"] as const;

/** Where a running session answers: for the proxy. */
export interface SessionUpstream {
	workflowId: string;
	port: number;
	pid: number;
	token: string;
}

/** The host this server runs on: a session's process is reached, checked and stopped from its own host only. */
const thisHost = hostname();

/** A session left `starting` this long by another server process is taken for abandoned. */
const startingGraceMs = 2 * 60_000;

/** How long a running session this process knows is trusted before the database is asked again. */
const upstreamRecheckMs = 5_000;

/**
 * Interactive sessions: a Jupyter server per run on the server's host, serving the run's workspace,
 * reached through the server at `/sessions/<id>/` (see `sessionProxy`). The database holds each
 * session's state; a session outlives a server restart (its process is a group of its own) and is
 * found again, or marked stopped when its process is gone.
 */
export class InteractiveSessions {
	/** Running sessions of this host, with when the database last said so. */
	private readonly upstreams = new Map<string, SessionUpstream & { checkedAt: number }>();
	private readonly opening = new Map<string, Promise<InteractiveSessionRow>>();

	constructor(private readonly ctx: InteractiveSessionDeps) {}

	private get command(): string {
		return this.ctx.config.jupyterCommand ?? "jupyter";
	}

	/** A session's own folder on its host: Jupyter's runtime and data files, its log, its used entry tickets. */
	folderOf(id: string): string {
		return join(this.ctx.config.home, "sessions", id);
	}

	/** True when the session's process is there (on another host: as far as the database says). */
	private isLive(row: InteractiveSessionRow): boolean {
		if (row.host !== thisHost) return true;
		return row.pid !== null && isAlive(row.pid);
	}

	/**
	 * Opens the run's session, or answers the one it has (REANA answers 404 "already open" there);
	 * resolves once Jupyter answers.
	 * Returns the session's path on this server, and the address of its Jupyter server itself, with its token.
	 */
	async open(
		wf: WorkflowRow,
		type: string,
		options: { image?: string | null } = {},
	): Promise<{ path: string; direct: string }> {
		if (!(interactiveSessionTypes as readonly string[]).includes(type)) {
			throw new AppError(
				"not_found",
				`Interactive session type ${type} not found, try with one of: [${interactiveSessionTypes.join(", ")}].`,
			);
		}
		if (options.image) {
			throw new AppError(
				"validation_failed",
				`sessions run the Jupyter of the server's host; an image (${options.image}) cannot be chosen on this server`,
			);
		}
		if (wf.status === "deleted") throw new AppError("conflict", "the run is deleted: its workspace is gone");
		let row = await findInteractiveSession(this.ctx.db, wf.id);
		if (row?.status === "running" && this.isLive(row)) {
			// as it is
		} else if (row?.status === "starting" && !this.opening.has(wf.id)) {
			// Another server process is opening it; one that gave up long ago left it behind.
			if (Date.now() - Date.parse(row.updated_at) < startingGraceMs) {
				throw new AppError("conflict", "the session is being opened by another request; try again in a moment");
			}
			await this.markStopped(row, "abandoned while it started");
			row = await this.startOnce(wf, type);
		} else {
			// A Jupyter that ended by itself (quit from its page, killed) is not waited for until the sweep.
			if (row?.status === "running" && row.host === thisHost)
				await this.markStopped(row, "its Jupyter server ended (idle too long, or quit from its page)");
			row = await this.startOnce(wf, type);
		}
		const path = sessionBase(row.id);
		const token = this.ctx.secretBox.open(row.token_sealed);
		return { path, direct: `http://127.0.0.1:${row.port}${path}?token=${encodeURIComponent(token)}` };
	}

	/** Starts the run's session, once for concurrent requests of this process. */
	private startOnce(wf: WorkflowRow, type: string): Promise<InteractiveSessionRow> {
		let pending = this.opening.get(wf.id);
		if (!pending) {
			pending = this.start(wf, type).finally(() => this.opening.delete(wf.id));
			this.opening.set(wf.id, pending);
		}
		return pending;
	}

	private async start(wf: WorkflowRow, type: string): Promise<InteractiveSessionRow> {
		const { db, clock, secretBox } = this.ctx;
		const token = randomBytes(24).toString("base64url");
		const now = isoNow(clock);
		const row: InteractiveSessionRow = {
			workflow_id: wf.id,
			id: newId(),
			type,
			status: "starting",
			host: thisHost,
			port: null,
			pid: null,
			token_sealed: secretBox.seal(token),
			message: null,
			created_at: now,
			updated_at: now,
		};
		if (!(await stat(wf.workspace_path).catch(() => undefined))?.isDirectory()) {
			throw new AppError("conflict", "the run's workspace is gone: there is nothing to open a session on");
		}
		if (!(await claimInteractiveSession(db, row))) {
			const other = await findInteractiveSession(db, wf.id);
			if (other?.status === "stopped")
				throw new AppError(
					"conflict",
					`the run's previous session is still being closed on ${other.host}; try again in a minute`,
				);
			throw new AppError("conflict", "the session is being opened by another request; try again in a moment");
		}
		const folder = this.folderOf(row.id);
		let pid: number | undefined;
		try {
			const started = await startJupyter({
				command: this.command,
				sessionId: row.id,
				workspace: wf.workspace_path,
				token,
				folder,
				timeoutMs: this.ctx.config.jupyterStartTimeoutMs ?? 60_000,
				maxIdleSeconds: Math.round(this.ctx.config.sessionMaxIdleDays * 86_400),
				// Recorded at once: a server killed before Jupyter answers leaves a process the next one can stop.
				onSpawn: (p) => {
					pid = p;
					void updateInteractiveSession(db, row.id, { pid: p }, ["starting"]).catch(() => undefined);
				},
			});
			const isRunning = await updateInteractiveSession(
				db,
				row.id,
				{ status: "running", pid: started.pid, port: started.port, updated_at: isoNow(clock) },
				["starting"],
			);
			if (!isRunning) {
				// Closed (or its run deleted) while it started.
				await stopJupyter({ pid: started.pid, port: started.port, id: row.id, token, folder });
				throw new AppError("conflict", "the session was closed while it started");
			}
			this.upstreams.set(row.id, {
				workflowId: wf.id,
				port: started.port,
				pid: started.pid,
				token,
				checkedAt: Date.now(),
			});
			this.ctx.logger.info({ workflow: wf.id, session: row.id, port: started.port }, "interactive session opened");
			return { ...row, status: "running", pid: started.pid, port: started.port };
		} catch (error) {
			const message = error instanceof Error ? error.message : String(error);
			const isFailed = await updateInteractiveSession(
				db,
				row.id,
				{ status: "failed", message, pid: null, updated_at: isoNow(clock) },
				["starting"],
			);
			if (isFailed && pid !== undefined && isAlive(pid))
				await stopJupyter({ pid, port: null, id: row.id, token, folder });
			if (isFailed)
				setTimeout(() => void rm(folder, { recursive: true, force: true }).catch(() => undefined), 11_000).unref();
			// Not starting any more: closed (its close stops what was started, and removes the folder).
			if (!isFailed && !(error instanceof AppError && error.code === "conflict"))
				throw new AppError("conflict", "the session was closed while it started");
			throw error;
		}
	}

	/**
	 * Closes the run's session; false when it had none open. Its process is stopped here when it runs
	 * on this host, else by its own host's next sweep.
	 */
	async close(wf: Pick<WorkflowRow, "id">): Promise<boolean> {
		const row = await findInteractiveSession(this.ctx.db, wf.id);
		if (!row || (row.status !== "running" && row.status !== "starting")) return false;
		const isClosed = await updateInteractiveSession(
			this.ctx.db,
			row.id,
			{ status: "stopped", message: "closed", updated_at: isoNow(this.ctx.clock) },
			["running", "starting"],
		);
		if (!isClosed) return false;
		this.upstreams.delete(row.id);
		if (row.host === thisHost) await this.end(row);
		return true;
	}

	/** Stops a session's processes on this host and forgets its pid and folder. */
	private async end(row: InteractiveSessionRow): Promise<void> {
		const folder = this.folderOf(row.id);
		if (row.pid !== null) {
			const token = this.ctx.secretBox.open(row.token_sealed);
			await stopJupyter({ pid: row.pid, port: row.port, id: row.id, token, folder });
			await updateInteractiveSession(this.ctx.db, row.id, { pid: null });
		}
		// The kernels' connection files go once they are stopped.
		setTimeout(() => void rm(folder, { recursive: true, force: true }).catch(() => undefined), 11_000).unref();
	}

	private async markStopped(row: InteractiveSessionRow, message: string): Promise<void> {
		this.upstreams.delete(row.id);
		await updateInteractiveSession(this.ctx.db, row.id, {
			status: "stopped",
			message,
			updated_at: isoNow(this.ctx.clock),
		});
		if (row.host === thisHost) await this.end(row);
	}

	/**
	 * Where a running session answers; `elsewhere` when it runs on another host (reach it through a
	 * server there); undefined for an unknown, stopped or vanished one.
	 */
	async upstream(sessionId: string): Promise<SessionUpstream | { elsewhere: string } | undefined> {
		const known = this.upstreams.get(sessionId);
		// What this process knows is trusted for a few seconds: a close at another server process is
		// seen in the database.
		if (known && Date.now() - known.checkedAt < upstreamRecheckMs) {
			if (isAlive(known.pid)) return known;
		}
		this.upstreams.delete(sessionId);
		const row = await findInteractiveSessionById(this.ctx.db, sessionId);
		if (row?.status !== "running" || row.port === null || row.pid === null) return undefined;
		if (row.host !== thisHost) return { elsewhere: row.host };
		if (!isAlive(row.pid)) return undefined;
		const found = {
			workflowId: row.workflow_id,
			port: row.port,
			pid: row.pid,
			token: this.ctx.secretBox.open(row.token_sealed),
			checkedAt: Date.now(),
		};
		this.upstreams.set(sessionId, found);
		return found;
	}

	/** The run of a running session, wherever it runs; undefined for an unknown or ended one. */
	async runOf(sessionId: string): Promise<string | undefined> {
		const row = await findInteractiveSessionById(this.ctx.db, sessionId);
		return row?.status === "running" ? row.workflow_id : undefined;
	}

	/** The id of the run's running session, wherever it runs; undefined when none is open. */
	async openSessionOf(workflowId: string): Promise<string | undefined> {
		const row = await findInteractiveSession(this.ctx.db, workflowId);
		return row?.status === "running" ? row.id : undefined;
	}

	/**
	 * Looks at this host's sessions: those whose Jupyter ended by itself (idle too long, or quit from its
	 * page) are marked stopped, and those closed from another host are stopped here. The server calls
	 * this every minute.
	 */
	async sweep(): Promise<void> {
		for (const row of await liveInteractiveSessions(this.ctx.db, thisHost)) {
			if (row.status === "running" && (row.pid === null || !isAlive(row.pid))) {
				await this.markStopped(row, "its Jupyter server ended (idle too long, or quit from its page)");
			} else if (row.status === "stopped" && row.pid !== null) {
				await this.end(row);
			} else if (
				row.status === "starting" &&
				!this.opening.has(row.workflow_id) &&
				Date.now() - Date.parse(row.updated_at) >= startingGraceMs
			) {
				// Left starting by a server process that was killed meanwhile (this one would be opening it).
				await this.markStopped(row, "abandoned while it started");
			}
		}
	}

	/**
	 * At a server's start: this host's sessions an earlier process left are kept when their Jupyter
	 * still answers, and marked stopped (their processes stopped) otherwise.
	 */
	async recover(): Promise<void> {
		for (const row of await liveInteractiveSessions(this.ctx.db, thisHost)) {
			if (row.status === "stopped") {
				if (row.pid !== null) await this.end(row);
				continue;
			}
			const token = this.ctx.secretBox.open(row.token_sealed);
			const isAnswering =
				row.pid !== null && row.port !== null && isAlive(row.pid) && (await answers(row.port, row.id, token));
			if (isAnswering && row.status === "running") continue;
			// A session left starting may be another server process's, still opening: only an old one is given up.
			if (row.status === "starting" && Date.now() - Date.parse(row.updated_at) < startingGraceMs) continue;
			await this.markStopped(row, "its Jupyter server was gone when the server started");
		}
	}
}
