import type { Command } from "commander";
import type { Session } from "../session.js";
import type { Action } from "./workflow-commands.js";
import { usage } from "./workflow-commands.js";

function day(iso: string | null): string {
	return iso ? iso.slice(0, 10) : "–";
}

/** `orrery token create | list | revoke`: self-service personal access tokens. */
export function registerTokenCommands(program: Command, action: Action): void {
	const token = program.command("token").description("your personal access tokens: create, list, revoke");

	token
		.command("create")
		.description("create a personal access token; its value is printed once, on stdout")
		.requiredOption("--name <name>", "a name to recognise the token by (e.g. the machine it is for)")
		.option("--scopes <scopes>", "comma-separated: read, write, run, admin (default: those of your credential)")
		.option("--expires-in-days <days>", "days until it expires (default: the server's, usually 90)")
		.option("--json", "print JSON")
		.action(
			action(async (session: Session, opts: { name: string; scopes?: string; expiresInDays?: string }) => {
				const days = opts.expiresInDays === undefined ? undefined : Number(opts.expiresInDays);
				if (days !== undefined && (!Number.isInteger(days) || days < 0)) {
					throw usage("--expires-in-days takes a whole number of days");
				}
				const api = await session.api();
				const res = await api.call("create_token", {
					body: {
						name: opts.name,
						...(opts.scopes
							? {
									scopes: opts.scopes
										.split(",")
										.map((s) => s.trim())
										.filter(Boolean),
								}
							: {}),
						...(days !== undefined ? { expires_in_days: days } : {}),
					},
				});
				if (session.out.isJson) return session.out.json(res);
				const t = res.token;
				session.out.note(
					`token ${t.prefix}… '${t.name}' (${t.scopes.join(", ")}), expires ${t.expires_at ?? "never"}; shown only now:`,
				);
				session.out.line(res.access_token);
			}),
		);

	token
		.command("list")
		.description("list your tokens: name, prefix, scopes, created, last used, expires")
		.option("--all", "every user's tokens (administrators)")
		.option("--user <email>", "another user's tokens (administrators)")
		.option("--json", "print JSON")
		.action(
			action(async (session: Session, opts: { all?: boolean; user?: string }) => {
				const api = await session.api();
				const res = await api.call("list_tokens", {
					query: { ...(opts.all ? { all: true } : {}), ...(opts.user ? { user: opts.user } : {}) },
				});
				if (session.out.isJson) return session.out.json(res);
				if (res.items.length === 0)
					return session.out.note("no tokens; create one with: orrery token create --name NAME");
				const others = opts.all === true || opts.user !== undefined;
				session.out.table(
					[...(others ? ["user"] : []), "prefix", "name", "scopes", "status", "created", "last used", "expires"],
					res.items.map((t) => [
						...(others ? [t.user_email] : []),
						t.prefix,
						t.name,
						t.scopes.join(","),
						t.status,
						day(t.created_at),
						day(t.last_used_at),
						day(t.expires_at),
					]),
				);
			}),
		);

	token
		.command("revoke")
		.description("revoke a token by its prefix (orr_XXXXXXXX) or id; it stops working at once")
		.argument("<token>", "the token's prefix or id")
		.option("--json", "print JSON")
		.action(
			action(async (session: Session, id: string) => {
				const api = await session.api();
				const res = await api.call("revoke_token", { params: { token_id: id } });
				if (session.out.isJson) return session.out.json(res);
				session.out.line(res.message);
			}),
		);
}
