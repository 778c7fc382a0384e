import { randomBytes } from "node:crypto";
import { rm } from "node:fs/promises";
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

/** What the sessions need of the server. */
export type InteractiveSessionDeps = Pick<ServerContext, "db" | "clock" | "secretBox" | "config" | "logger">;

import { answers, isAlive, sessionBase, startJupyter, stopJupyter } from "./jupyter-process.js";

/** The kinds of interactive session a run can open. */
export const interactiveSessionTypes = ["jupyter"] as const;

/** Where a running session answers: for the proxy. */
export interface SessionUpstream {
	workflowId: string;
	port: number;
	token: string;
}

/**
 * Interactive sessions: a Jupyter server per run on the server's host, serving the run's workspace,
 * reached through the server at `/sessions/<id>/` (see `sessionProxy`). The database holds each
 * session's state; a session outlives a server restart (its process is a group of its own) and is
 * found again, or marked stopped when its process is gone.
 */
export class InteractiveSessions {
	private readonly upstreams = new Map<string, SessionUpstream>();
	private readonly opening = new Map<string, Promise<InteractiveSessionRow>>();

	constructor(private readonly ctx: InteractiveSessionDeps) {}

	private get command(): string {
		return this.ctx.config.jupyterCommand ?? "jupyter";
	}

	private folderOf(id: string): string {
		return join(this.ctx.config.home, "sessions", id);
	}

	/**
	 * Opens the run's session, or answers the one it has (as REANA does); resolves once Jupyter answers.
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
		const existing = await findInteractiveSession(this.ctx.db, wf.id);
		let row: InteractiveSessionRow;
		if (existing?.status === "running" && existing.pid !== null && isAlive(existing.pid)) row = existing;
		else {
			let pending = this.opening.get(wf.id);
			if (!pending) {
				pending = this.start(wf, type).finally(() => this.opening.delete(wf.id));
				this.opening.set(wf.id, pending);
			}
			row = await pending;
		}
		const path = sessionBase(row.id);
		const token = this.ctx.secretBox.open(row.token_sealed);
		return { path, direct: `http://127.0.0.1:${row.port}${path}?token=${encodeURIComponent(token)}` };
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
			port: null,
			pid: null,
			token_sealed: secretBox.seal(token),
			message: null,
			created_at: now,
			updated_at: now,
		};
		if (!(await claimInteractiveSession(db, row))) {
			// Another server process is opening it (or its record says running while its process is gone).
			const other = (await findInteractiveSession(db, wf.id)) as InteractiveSessionRow;
			if (other.pid !== null && isAlive(other.pid)) return other;
			await updateInteractiveSession(db, other.id, { status: "stopped", updated_at: isoNow(clock) });
			return this.start(wf, type);
		}
		try {
			const { pid, port } = await startJupyter({
				command: this.command,
				sessionId: row.id,
				workspace: wf.workspace_path,
				token,
				folder: this.folderOf(row.id),
				timeoutMs: this.ctx.config.jupyterStartTimeoutMs ?? 60_000,
				maxIdleSeconds: Math.round(this.ctx.config.sessionMaxIdleDays * 86_400),
			});
			await updateInteractiveSession(db, row.id, { status: "running", pid, port, updated_at: isoNow(clock) });
			this.upstreams.set(row.id, { workflowId: wf.id, port, token });
			this.ctx.logger.info({ workflow: wf.id, session: row.id, port }, "interactive session opened");
			return { ...row, status: "running", pid, port };
		} catch (error) {
			const message = error instanceof Error ? error.message : String(error);
			await updateInteractiveSession(db, row.id, { status: "failed", message, updated_at: isoNow(clock) });
			throw error;
		}
	}

	/** Closes the run's session (its process group ends); false when it had none open. */
	async close(wf: Pick<WorkflowRow, "id">): Promise<boolean> {
		const row = await findInteractiveSession(this.ctx.db, wf.id);
		if (!row || (row.status !== "running" && row.status !== "starting")) return false;
		if (row.pid !== null) stopJupyter(row.pid);
		this.upstreams.delete(row.id);
		await updateInteractiveSession(this.ctx.db, row.id, { status: "stopped", updated_at: isoNow(this.ctx.clock) });
		await rm(this.folderOf(row.id), { recursive: true, force: true });
		return true;
	}

	/** Where a running session answers; undefined for an unknown, stopped or vanished one. */
	async upstream(sessionId: string): Promise<SessionUpstream | undefined> {
		const known = this.upstreams.get(sessionId);
		if (known) return known;
		const row = await findInteractiveSessionById(this.ctx.db, sessionId);
		if (row?.status !== "running" || row.port === null || row.pid === null || !isAlive(row.pid)) return undefined;
		const found = { workflowId: row.workflow_id, port: row.port, token: this.ctx.secretBox.open(row.token_sealed) };
		this.upstreams.set(sessionId, found);
		return found;
	}

	/**
	 * Marks stopped the sessions whose Jupyter has ended by itself (idle too long, or quit from its own
	 * page), so listings stop showing them; the server calls this every minute.
	 */
	async sweep(): Promise<void> {
		for (const row of await liveInteractiveSessions(this.ctx.db)) {
			if (row.status !== "running" || (row.pid !== null && isAlive(row.pid))) continue;
			this.upstreams.delete(row.id);
			await updateInteractiveSession(this.ctx.db, row.id, {
				status: "stopped",
				message: "its Jupyter server ended (idle too long, or quit from its page)",
				updated_at: isoNow(this.ctx.clock),
			});
			await rm(this.folderOf(row.id), { recursive: true, force: true });
		}
	}

	/**
	 * At a server's start: the sessions an earlier process left are kept when their Jupyter still
	 * answers, and marked stopped otherwise (the process died with the machine, or was killed).
	 */
	async recover(): Promise<void> {
		for (const row of await liveInteractiveSessions(this.ctx.db)) {
			const token = this.ctx.secretBox.open(row.token_sealed);
			const alive =
				row.pid !== null && row.port !== null && isAlive(row.pid) && (await answers(row.port, row.id, token));
			if (alive && row.status === "running") continue;
			// A session left starting may be another server process's, still opening: only an old one is given up.
			const age = Date.now() - Date.parse(row.updated_at);
			if (row.status === "starting" && age < 5 * 60_000) continue;
			if (row.pid !== null && isAlive(row.pid)) stopJupyter(row.pid);
			await updateInteractiveSession(this.ctx.db, row.id, {
				status: "stopped",
				message: "its Jupyter server was gone when the server started",
				updated_at: isoNow(this.ctx.clock),
			});
		}
	}
}
