import type { Command } from "commander";
import type { Session } from "../session.js";
import type { Action } from "./workflow-commands.js";
import { usage } from "./workflow-commands.js";

interface TargetOptions {
	workflow?: string;
	user?: string[];
	group?: string[];
	allRuns?: boolean;
}

function targets(opts: TargetOptions): Array<{ user: string } | { group: string }> {
	const out = [...(opts.user ?? []).map((user) => ({ user })), ...(opts.group ?? []).map((group) => ({ group }))];
	if (out.length === 0) throw usage("whom? pass --user EMAIL or --group NAME (both may repeat)");
	return out;
}

/** `orrery share-add | share-remove | share-status`: REANA's sharing commands, with groups and run permission. */
export function registerShareCommands(program: Command, action: Action): void {
	program
		.command("share-add")
		.description("share a run with users or groups (read: see it; run: also start it)")
		.option("-w, --workflow <name>", "workflow (NAME.RUN or id); default $ORRERY_WORKON / $REANA_WORKON")
		.option("--user <email...>", "a user to share with (they must have logged in once)")
		.option("--group <name...>", "a group to share with, as your identity provider names it")
		.option("--permission <permission>", "read or run", "read")
		.option("--valid-until <date>", "YYYY-MM-DD: access ends after that day")
		.option("--message <text>", "a message for the people you share with")
		.option("--all-runs", "share every run of this workflow's name, also future ones")
		.option("--json", "print JSON")
		.action(
			action(
				async (
					session: Session,
					opts: TargetOptions & { permission: string; validUntil?: string; message?: string },
				) => {
					if (opts.permission !== "read" && opts.permission !== "run") throw usage("--permission takes read or run");
					const w = session.workflow(opts.workflow);
					const api = await session.api();
					const results = [];
					for (const target of targets(opts)) {
						const res = await api.call("share_workflow", {
							params: { workflow_id_or_name: w },
							body: {
								...("user" in target ? { user_email_to_share_with: target.user } : { group: target.group }),
								permission: opts.permission as "read" | "run",
								...(opts.validUntil ? { valid_until: opts.validUntil } : {}),
								...(opts.message ? { message: opts.message } : {}),
								...(opts.allRuns ? { all_runs: true } : {}),
							},
						});
						results.push(res);
						if (!session.out.isJson) session.out.line(res.message);
					}
					if (session.out.isJson) session.out.json(results);
				},
			),
		);

	program
		.command("share-remove")
		.description("stop sharing a run with users or groups (effective at once)")
		.option("-w, --workflow <name>", "workflow (NAME.RUN or id); default $ORRERY_WORKON / $REANA_WORKON")
		.option("--user <email...>", "a user to stop sharing with")
		.option("--group <name...>", "a group to stop sharing with")
		.option("--all-runs", "the share of every run of this name (as made with share-add --all-runs)")
		.option("--json", "print JSON")
		.action(
			action(async (session: Session, opts: TargetOptions) => {
				const w = session.workflow(opts.workflow);
				const api = await session.api();
				const results = [];
				for (const target of targets(opts)) {
					const res = await api.call("unshare_workflow", {
						params: { workflow_id_or_name: w },
						query: {
							...("user" in target ? { user_email_to_unshare_with: target.user } : { group: target.group }),
							...(opts.allRuns ? { all_runs: true } : {}),
						},
					});
					results.push(res);
					if (!session.out.isJson) session.out.line(res.message);
				}
				if (session.out.isJson) session.out.json(results);
			}),
		);

	program
		.command("share-status")
		.description("whom a run is shared with")
		.option("-w, --workflow <name>", "workflow (NAME.RUN or id); default $ORRERY_WORKON / $REANA_WORKON")
		.option("--json", "print JSON")
		.action(
			action(async (session: Session, opts: { workflow?: string }) => {
				const w = session.workflow(opts.workflow);
				const api = await session.api();
				const res = await api.call("get_workflow_share_status", { params: { workflow_id_or_name: w } });
				if (session.out.isJson) return session.out.json(res);
				if (res.shared_with.length === 0) return session.out.note(`${res.workflow_name} is not shared`);
				session.out.table(
					["shared with", "permission", "valid until", "runs"],
					res.shared_with.map((s) => [
						s.user_email,
						s.permission,
						s.valid_until ?? "–",
						s.all_runs ? "all runs of the name" : res.workflow_name,
					]),
				);
			}),
		);
}
