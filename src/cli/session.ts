import { AppError } from "../common/index.js";
import { readClientConfig } from "../config/index.js";
import { ApiClient } from "./api-client.js";
import type { Output } from "./output.js";
import { readCliConfig, serverKey } from "./stored-logins.js";

/** A server started inside the CLI process (the zero-set-up default). */
export interface EmbeddedServer {
	url: string;
	token: string;
	close(): Promise<void>;
}

/** Server-side functions the CLI can call without knowing the server's code (wired in by the entry point). */
export interface CliDeps {
	version: string;
	startEmbedded(): Promise<EmbeddedServer>;
	serve(options: { host?: string; port?: number }): Promise<void>;
	admin(): Promise<{
		createUser(input: { email: string; fullName?: string; isAdmin?: boolean; expiresInDays?: number }): Promise<{
			user: { id: string; email: string };
			token: string;
		}>;
		grantToken(input: {
			email: string;
			name?: string;
			scopes?: string[];
			expiresInDays?: number;
		}): Promise<{ token: string; prefix: string }>;
		revokeToken(idOrPrefix: string): Promise<void>;
		setQuota(input: {
			email: string;
			resource: string;
			limit: string;
		}): Promise<{ resource: string; limit: number; usage: number }>;
		migrate(): Promise<void>;
	}>;
}

/** One CLI invocation's connection to a server: remote when configured, embedded otherwise. */
export class Session {
	private client: ApiClient | undefined;
	private embedded: EmbeddedServer | undefined;
	readonly config = withStoredLogin(readClientConfig());

	constructor(
		readonly deps: CliDeps,
		readonly out: Output,
	) {}

	/** True when no server is configured and commands run against the embedded one. */
	get isEmbedded(): boolean {
		return this.config.serverUrl === undefined;
	}

	/** The API client, starting the embedded server on first use when no server is configured. */
	async api(): Promise<ApiClient> {
		if (this.client) return this.client;
		if (this.config.serverUrl) {
			if (!this.config.accessToken) {
				throw new AppError(
					"unauthenticated",
					`no access token for ${this.config.serverUrl}; run 'orrery login' or set ORRERY_ACCESS_TOKEN (or REANA_ACCESS_TOKEN)`,
				);
			}
			this.client = new ApiClient(this.config.serverUrl, this.config.accessToken);
		} else {
			this.embedded = await this.deps.startEmbedded();
			this.client = new ApiClient(this.embedded.url, this.embedded.token);
		}
		return this.client;
	}

	/** The workflow to act on: the -w option, or ORRERY_WORKON / REANA_WORKON. */
	workflow(option: string | undefined): string {
		const w = option ?? this.config.workon;
		if (!w) {
			throw new AppError("validation_failed", "which workflow? pass -w NAME (or set ORRERY_WORKON / REANA_WORKON)", {
				details: { usage: true },
			});
		}
		return w;
	}

	/** Shuts the embedded server down (running jobs continue and are picked up next time). */
	async close(): Promise<void> {
		await this.embedded?.close();
		this.embedded = undefined;
	}
}

/**
 * Fills in what `orrery login` stored: the server when none is set in the environment, and its token when
 * the environment has none. The environment always wins.
 */
function withStoredLogin(config: ReturnType<typeof readClientConfig>): ReturnType<typeof readClientConfig> {
	const stored = readCliConfig();
	const serverUrl = config.serverUrl ?? stored.default_server;
	if (!serverUrl) return config;
	const login = stored.logins[serverKey(serverUrl)];
	return { ...config, serverUrl, accessToken: config.accessToken ?? login?.access_token };
}
