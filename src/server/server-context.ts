import type { Clock, Logger } from "../common/index.js";
import type { ServerConfig } from "../config/index.js";
import type { Db } from "../db/index.js";
import type { RunsDeps, Scheduler } from "../scheduler/index.js";
import type { SecretBox } from "../secrets/index.js";
import type { Workspaces } from "../storage/index.js";
import type { InteractiveSessions } from "./interactive/interactive-sessions.js";

/** What route handlers work with. */
export interface ServerContext {
	db: Db;
	workspaces: Workspaces;
	scheduler: Scheduler;
	runs: RunsDeps;
	clock: Clock;
	config: ServerConfig;
	logger: Logger;
	/** Credentials that are not stored tokens: the embedded CLI's per-process session (hash → user id). */
	sessionTokens: Map<string, string>;
	/** Encrypts users' secrets. */
	secretBox: SecretBox;
	/** Runs' interactive sessions (Jupyter). */
	interactive: InteractiveSessions;
	/** What GET /api/info reports. */
	capabilities: { backends: string[]; containerRuntime: string | null; engines: string[] };
}
