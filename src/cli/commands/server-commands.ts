import type { Command } from "commander";
import type { Session } from "../session.js";
import type { Action } from "./workflow-commands.js";
import { usage } from "./workflow-commands.js";

/** `orrery server` and `orrery admin …`: commands that run the server side on this machine. */
export function registerServerCommands(program: Command, action: Action, deps: Session["deps"]): void {
	program
		.command("server")
		.description("run the HTTP API server (SQLite under $ORRERY_HOME unless ORRERY_DATABASE_URL is set)")
		.option("--host <host>", "address to listen on (default $ORRERY_HOST or 127.0.0.1)")
		.option("--port <port>", "port (default $ORRERY_PORT or 5000)")
		.action(
			action(async (_session: Session, opts: { host?: string; port?: string }) => {
				const port = opts.port === undefined ? undefined : Number(opts.port);
				if (port !== undefined && (!Number.isInteger(port) || port < 0 || port > 65535))
					throw usage("--port takes a port number");
				await deps.serve({ ...(opts.host ? { host: opts.host } : {}), ...(port !== undefined ? { port } : {}) });
			}),
		);

	const admin = program
		.command("admin")
		.description("administration on the server's machine (works on its database directly)");

	admin
		.command("create-user")
		.description("create a user and print an access token for them (shown once)")
		.requiredOption("--email <email>", "the user's email (their login name)")
		.option("--full-name <name>", "the user's full name")
		.option("--admin", "make the user an administrator")
		.option("--expires-in-days <days>", "token expiry in days (default: never)")
		.option("--json", "print JSON")
		.action(
			action(
				async (
					session: Session,
					opts: { email: string; fullName?: string; admin?: boolean; expiresInDays?: string },
				) => {
					const commands = await deps.admin();
					const res = await commands.createUser({
						email: opts.email,
						...(opts.fullName ? { fullName: opts.fullName } : {}),
						isAdmin: opts.admin === true,
						...(opts.expiresInDays ? { expiresInDays: Number(opts.expiresInDays) } : {}),
					});
					if (session.out.isJson) return session.out.json({ id: res.user.id, email: res.user.email, token: res.token });
					session.out.note(`created user ${res.user.email}; their access token (shown only now):`);
					session.out.line(res.token);
				},
			),
		);

	admin
		.command("token-grant")
		.description("issue another access token for a user (shown once)")
		.requiredOption("--email <email>", "the user's email")
		.option("--name <name>", "a name to recognise the token by")
		.option("--scopes <scopes>", "comma-separated: read,write,run,admin", "read,write,run")
		.option("--expires-in-days <days>", "token expiry in days (default: never)")
		.option("--json", "print JSON")
		.action(
			action(
				async (session: Session, opts: { email: string; name?: string; scopes: string; expiresInDays?: string }) => {
					const commands = await deps.admin();
					const res = await commands.grantToken({
						email: opts.email,
						...(opts.name ? { name: opts.name } : {}),
						scopes: opts.scopes.split(",").map((s) => s.trim()),
						...(opts.expiresInDays ? { expiresInDays: Number(opts.expiresInDays) } : {}),
					});
					if (session.out.isJson) return session.out.json(res);
					session.out.note(`token ${res.prefix}… for ${opts.email} (shown only now):`);
					session.out.line(res.token);
				},
			),
		);

	admin
		.command("token-revoke")
		.description("revoke an access token by its id or prefix")
		.argument("<token>", "the token's id or prefix (orr_XXXXXXXX)")
		.action(
			action(async (session: Session, token: string) => {
				const commands = await deps.admin();
				await commands.revokeToken(token);
				session.out.line(`token ${token} revoked`);
			}),
		);

	admin
		.command("quota-set")
		.description("set a user's CPU or disk limit (0: unlimited); starting or creating runs over it is refused")
		.requiredOption("--email <email>", "the user's email")
		.requiredOption("--resource <resource>", "cpu (wall time of runs) or disk (workspace bytes)")
		.requiredOption("--limit <limit>", "e.g. 100h or 50G; a plain number is milliseconds or bytes")
		.option("--json", "print JSON")
		.action(
			action(async (session: Session, opts: { email: string; resource: string; limit: string }) => {
				const res = await (await deps.admin()).setQuota(opts);
				if (session.out.isJson) return session.out.json(res);
				session.out.line(`${opts.email}: ${res.resource} limit ${res.limit} (usage ${res.usage})`);
			}),
		);

	admin
		.command("migrate")
		.description("bring the database schema up to date")
		.action(
			action(async (session: Session) => {
				await (await deps.admin()).migrate();
				session.out.line("database is up to date");
			}),
		);
}
