import { hostname } from "node:os";
import type { Command } from "commander";
import { AppError } from "../../common/index.js";
import { ApiClient, ApiError } from "../api-client.js";
import type { Session } from "../session.js";
import { cliConfigPath, readCliConfig, serverKey, writeCliConfig } from "../stored-logins.js";
import type { Action } from "./workflow-commands.js";
import { usage } from "./workflow-commands.js";

function serverOf(session: Session, option: string | undefined): string {
	const url = option ?? session.config.serverUrl;
	if (!url) {
		throw usage("which server? pass --server URL (or set ORRERY_SERVER_URL); the embedded server needs no login");
	}
	return serverKey(url);
}

/** Waits, or throws when the user presses Ctrl-C. */
function pause(ms: number, signal: AbortSignal): Promise<void> {
	return new Promise((done, fail) => {
		if (signal.aborted) return fail(signal.reason);
		const timer = setTimeout(done, ms);
		signal.addEventListener(
			"abort",
			() => {
				clearTimeout(timer);
				fail(signal.reason);
			},
			{ once: true },
		);
	});
}

/** `orrery login` (OIDC device flow through the server) and `orrery logout`. */
export function registerLoginCommands(program: Command, action: Action): void {
	program
		.command("login")
		.description("log in to a server through your institution (prints a URL and a code) and store the token")
		.option("--server <url>", "the Orrery server (default $ORRERY_SERVER_URL or the last one logged in to)")
		.option("--name <name>", "a name for the token this login creates", `orrery login on ${hostname()}`)
		.option("--json", "print JSON")
		.action(
			action(async (session: Session, opts: { server?: string; name: string }) => {
				const server = serverOf(session, opts.server);
				const api = new ApiClient(server, undefined);
				const start = await api.call("device_login_start");
				session.out.note(`To log in, open ${start.verification_uri} and enter the code ${start.user_code}`);
				if (start.verification_uri_complete) session.out.note(`(or open ${start.verification_uri_complete})`);
				session.out.note("Waiting for you to approve the login…");
				const controller = new AbortController();
				const cancel = () => controller.abort(new AppError("validation_failed", "login cancelled"));
				process.on("SIGINT", cancel);
				try {
					let interval = Math.max(1, start.interval) * 1000;
					const end = Date.now() + start.expires_in * 1000;
					for (;;) {
						if (Date.now() > end) {
							throw new AppError(
								"forbidden",
								"the login code expired before it was approved; run 'orrery login' again",
							);
						}
						await pause(interval, controller.signal);
						const res = await api.call("device_login_poll", {
							body: { device_code: start.device_code, token_name: opts.name },
						});
						if (res.status === "slow_down") interval += 5000;
						if (res.status !== "complete") continue;
						const token = res.token as NonNullable<typeof res.token>;
						const config = readCliConfig();
						config.logins[server] = {
							access_token: res.access_token as string,
							token_id: token.id,
							prefix: token.prefix,
							user: token.user_email,
							expires_at: token.expires_at,
							saved_at: new Date().toISOString(),
						};
						config.default_server = server;
						writeCliConfig(config);
						if (session.out.isJson) {
							return session.out.json({ server, user: res.user, token, stored_in: cliConfigPath() });
						}
						const groups = res.user?.groups.length ? ` (groups: ${res.user.groups.join(", ")})` : "";
						session.out.line(`Logged in to ${server} as ${token.user_email}${groups}`);
						session.out.note(
							`token ${token.prefix}… stored in ${cliConfigPath()}, expires ${token.expires_at ?? "never"}`,
						);
						return;
					}
				} finally {
					process.off("SIGINT", cancel);
				}
			}),
		);

	program
		.command("logout")
		.description("revoke the token 'orrery login' stored for a server and forget it")
		.option("--server <url>", "the server (default $ORRERY_SERVER_URL or the last one logged in to)")
		.action(
			action(async (session: Session, opts: { server?: string }) => {
				const server = serverOf(session, opts.server);
				const config = readCliConfig();
				const login = config.logins[server];
				if (!login) {
					session.out.note(`not logged in to ${server}; nothing to do`);
					return;
				}
				try {
					await new ApiClient(server, login.access_token).call("logout");
				} catch (error) {
					if (!(error instanceof ApiError) && !(error instanceof AppError)) throw error;
					session.out.note(`the server could not revoke the token (${error.message}); forgetting it anyway`);
				}
				delete config.logins[server];
				if (config.default_server === server) delete config.default_server;
				writeCliConfig(config);
				session.out.line(`Logged out of ${server} (token ${login.prefix}… revoked)`);
			}),
		);
}
