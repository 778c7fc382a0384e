import { readFile } from "node:fs/promises";
import { basename } from "node:path";
import type { Command } from "commander";
import { ApiError } from "../api-client.js";
import { parseKeyValues } from "../key-values.js";
import { statusColour } from "../output.js";
import type { Session } from "../session.js";
import { type Action, loadSpec, short, startedRun, usage } from "./workflow-commands.js";

/** REANA's remaining commands: restart, diff, du, mv, rm, prune, secrets, quota, retention rules, info. */
export function registerReanaCommands(program: Command, action: Action): void {
	program
		.command("restart")
		.description("restart an ended run as NAME.RUN.MINOR in the same workspace (e.g. -o FROM=step)")
		.option("-w, --workflow <name>", "workflow (NAME, NAME.RUN or id)")
		.option("-p, --parameter <key=value...>", "override an input parameter")
		.option("-o, --option <key=value...>", "operational option (FROM, TARGET, CACHE)")
		.option("-f, --file <path>", "a changed reana.yaml to restart with")
		.option("--follow", "follow progress and logs until the run ends")
		.option("--json", "print JSON")
		.action(
			action(
				async (
					session: Session,
					opts: { workflow?: string; parameter?: string[]; option?: string[]; file?: string; follow?: boolean },
				) => {
					const w = session.workflow(opts.workflow);
					const loaded = opts.file ? await loadSpec(opts.file) : undefined;
					const spec = loaded?.spec.reana;
					const api = await session.api();
					// The restart runs the workspace's copies: local workflow files that differ (size and
					// SHA-256, as uploads compare them) are uploaded first, into the shared workspace.
					let uploaded: string[] = [];
					if (loaded) {
						const { workflowFiles } = await import("../spec-files.js");
						const { uploadTree } = await import("../tree-transfer.js");
						const local = await workflowFiles(loaded.file, loaded.spec.reana);
						if (local.length > 0) uploaded = (await uploadTree(api, w, local, { note: () => undefined })).names;
						if (!session.out.isJson) for (const f of uploaded) session.out.line(`uploaded ${f}`);
					}
					const answer = await api.call("start_workflow", {
						params: { workflow_id_or_name: w },
						body: {
							restart: true,
							input_parameters: parseKeyValues(opts.parameter, "-p"),
							operational_options: parseKeyValues(opts.option, "-o"),
							...(spec ? { reana_specification: spec } : {}),
						},
					});
					const res = { ...answer, workflow_name: startedRun(answer), ...(loaded ? { uploaded } : {}) };
					if (opts.follow || session.isEmbedded) {
						const { followRun } = await import("../follow.js");
						const status = await followRun(api, session.out, res.workflow_name, {
							showJobLogs: !session.out.isJson,
							showEvents: !session.out.isJson,
						});
						if (session.out.isJson) return session.out.json({ ...res, status });
						session.out.line(`${res.workflow_name} ${session.out.colour(statusColour(status), status)}`);
						return;
					}
					if (session.out.isJson) return session.out.json(res);
					session.out.line(`${res.workflow_name} has been queued (a restart of ${w})`);
				},
			),
		);

	program
		.command("diff")
		.description("differences of two runs: specification, parameters and workspace files")
		.argument("<a>", "first run")
		.argument("<b>", "second run")
		.option("--brief", "only say whether the workspaces differ")
		.option("-u, --unified <lines>", "lines of context", "5")
		.option("--json", "print JSON")
		.action(
			action(async (session: Session, a: string, b: string, opts: { brief?: boolean; unified: string }) => {
				if (!/^\d+$/.test(opts.unified)) throw usage("-u takes a number of lines");
				const api = await session.api();
				const res = await api.call("get_workflow_diff", {
					params: { workflow_id_or_name_a: a, workflow_id_or_name_b: b },
					query: { context_lines: opts.unified, ...(opts.brief ? { brief: true } : {}) },
				});
				const spec = JSON.parse(res.reana_specification) as Record<string, string[]>;
				// A JSON-encoded string of diff lines, as REANA sends it (older Orrery servers sent a list).
				const listing = JSON.parse(res.workspace_listing) as string | string[];
				const files = Array.isArray(listing) ? listing : listing ? listing.replace(/\n$/, "").split("\n") : [];
				if (session.out.isJson) return session.out.json({ specification: spec, workspace: files });
				const colour = (l: string) =>
					l.startsWith("+") ? session.out.colour("green", l) : l.startsWith("-") ? session.out.colour("red", l) : l;
				if (Object.keys(spec).length === 0) session.out.line("No differences in the specifications.");
				for (const [section, lines] of Object.entries(spec)) {
					session.out.line(session.out.colour("bold", `Differences in ${section}:`));
					for (const l of lines) session.out.line(colour(l));
				}
				session.out.line();
				if (files.length === 0) session.out.line("No differences in the workspace files.");
				else {
					session.out.line(session.out.colour("bold", "Differences in the workspace files:"));
					for (const l of files) session.out.line(colour(l));
				}
			}),
		);

	program
		.command("du")
		.description("disk usage of a run's workspace: files, and folders with their totals")
		.option("-w, --workflow <name>", "workflow (NAME, NAME.RUN or id)")
		.option("-s, --summarize", "only the total")
		.option("--filter <text>", "only files and folders whose name contains this")
		.option("--json", "print JSON")
		.action(
			action(async (session: Session, opts: { workflow?: string; summarize?: boolean; filter?: string }) => {
				const api = await session.api();
				const res = await api.call("get_workflow_disk_usage", {
					params: { workflow_id_or_name: session.workflow(opts.workflow) },
					query: { ...(opts.summarize ? { summarize: true } : {}), ...(opts.filter ? { search: opts.filter } : {}) },
				});
				if (session.out.isJson) return session.out.json(res);
				session.out.table(
					["size", "name"],
					// REANA's names: `/path` below the workspace, "" for all of it.
					res.disk_usage_info.map((d) => [d.size.human_readable, `.${d.name}`]),
				);
			}),
		);

	program
		.command("mv")
		.description("move or rename a file or folder in a run's workspace")
		.argument("<source>")
		.argument("<target>")
		.option("-w, --workflow <name>", "workflow (NAME, NAME.RUN or id)")
		.action(
			action(async (session: Session, source: string, target: string, opts: { workflow?: string }) => {
				const api = await session.api();
				const res = await api.call("move_files", {
					params: { workflow_id_or_name: session.workflow(opts.workflow) },
					query: { source, target },
				});
				session.out.line(res.message);
			}),
		);

	program
		.command("rm")
		.description("delete files from a run's workspace (a path, a folder or a glob)")
		.argument("<paths...>")
		.option("-w, --workflow <name>", "workflow (NAME, NAME.RUN or id)")
		.option("--json", "print JSON")
		.action(
			action(async (session: Session, paths: string[], opts: { workflow?: string }) => {
				const api = await session.api();
				// Every path is tried, as reana-client does; what could not be deleted is reported at the end.
				const all: { deleted: Record<string, { size: number }>; failed: Record<string, { error: string }> } = {
					deleted: {},
					failed: {},
				};
				const unmatched: string[] = [];
				for (const p of paths) {
					const res = await api.call("delete_file", {
						params: { workflow_id_or_name: session.workflow(opts.workflow), "*": p },
					});
					if (Object.keys(res.deleted).length === 0 && Object.keys(res.failed).length === 0) unmatched.push(p);
					Object.assign(all.deleted, res.deleted);
					Object.assign(all.failed, res.failed);
					if (session.out.isJson) continue;
					for (const [name, { size }] of Object.entries(res.deleted))
						session.out.line(`deleted ${name} (${size} bytes)`);
					for (const [name, { error }] of Object.entries(res.failed))
						session.out.note(session.out.colour("red", `could not delete ${name}: ${error}`));
				}
				const failures = Object.keys(all.failed).length;
				const missing = unmatched.map((p) => `${p} did not match any existing file`).join("; ");
				if (failures > 0) {
					const deleted = Object.keys(all.deleted).length;
					throw new ApiError(
						409,
						"conflict",
						`could not delete ${failures} of ${failures + deleted} files and folders${session.out.isJson ? "" : " (see above)"}${missing ? `; ${missing}` : ""}`,
						{ ...all, ...(unmatched.length > 0 ? { unmatched } : {}) },
					);
				}
				if (unmatched.length > 0) throw new ApiError(404, "not_found", missing, { ...all, unmatched });
				if (session.out.isJson) session.out.json(all);
			}),
		);

	program
		.command("prune")
		.description("delete every workspace file except the declared inputs and outputs")
		.option("-w, --workflow <name>", "workflow (NAME, NAME.RUN or id)")
		.option("--include-inputs", "delete the inputs too")
		.option("--include-outputs", "delete the outputs too")
		.action(
			action(
				async (session: Session, opts: { workflow?: string; includeInputs?: boolean; includeOutputs?: boolean }) => {
					const api = await session.api();
					const res = await api.call("prune_workspace", {
						params: { workflow_id_or_name: session.workflow(opts.workflow) },
						query: {
							...(opts.includeInputs ? { include_inputs: true } : {}),
							...(opts.includeOutputs ? { include_outputs: true } : {}),
						},
					});
					session.out.line(res.message);
				},
			),
		);

	program
		.command("retention-rules")
		.description("the retention rules of a run (workspace.retention_days)")
		.option("-w, --workflow <name>", "workflow (NAME, NAME.RUN or id)")
		.option("--json", "print JSON")
		.action(
			action(async (session: Session, opts: { workflow?: string }) => {
				const api = await session.api();
				const res = await api.call("get_workflow_retention_rules", {
					params: { workflow_id_or_name: session.workflow(opts.workflow) },
				});
				if (session.out.isJson) return session.out.json(res);
				if (res.retention_rules.length === 0) return session.out.note(`${res.workflow_name} has no retention rules`);
				session.out.table(
					["files", "days", "apply on", "status"],
					res.retention_rules.map((r) => [r.workspace_files, String(r.retention_days), short(r.apply_on), r.status]),
				);
			}),
		);

	program
		.command("quota")
		.description("your CPU and disk usage and limits")
		.option("--json", "print JSON")
		.action(
			action(async (session: Session) => {
				const api = await session.api();
				const you = await api.call("get_you");
				if (session.out.isJson) return session.out.json(you.quota);
				session.out.table(
					["resource", "usage", "limit", "health"],
					(["cpu", "disk"] as const).map((r) => [
						r,
						you.quota[r].usage.human_readable,
						you.quota[r].limit.human_readable,
						you.quota[r].health,
					]),
				);
			}),
		);

	const secrets = program.command("secrets").description("secrets your jobs receive as environment variables or files");
	secrets
		.command("add")
		.description("add secrets: --env NAME=VALUE, --file PATH (the file's name is the secret's name)")
		.option("--env <name=value...>", "an environment variable for every job")
		.option("--file <path...>", "a file jobs find in $REANA_SECRETS_DIR (/etc/reana/secrets in containers)")
		.option("--overwrite", "replace secrets that exist")
		.action(
			action(async (session: Session, opts: { env?: string[]; file?: string[]; overwrite?: boolean }) => {
				const body: Record<string, { value: string; type: "env" | "file" }> = {};
				for (const [k, v] of Object.entries(parseKeyValues(opts.env, "--env")))
					body[k] = { value: Buffer.from(v).toString("base64"), type: "env" };
				for (const path of opts.file ?? [])
					body[basename(path)] = { value: (await readFile(path)).toString("base64"), type: "file" };
				if (Object.keys(body).length === 0) throw usage("give at least one --env NAME=VALUE or --file PATH");
				const api = await session.api();
				const res = await api.call("add_secrets", { body, query: opts.overwrite ? { overwrite: true } : {} });
				session.out.line(res.message);
			}),
		);
	secrets
		.command("list")
		.description("your secrets (names and types; values are never shown)")
		.option("--json", "print JSON")
		.action(
			action(async (session: Session) => {
				const api = await session.api();
				const res = await api.call("get_secrets");
				if (session.out.isJson) return session.out.json(res);
				session.out.table(
					["name", "type"],
					res.map((s) => [s.name, s.type]),
				);
			}),
		);
	secrets
		.command("delete")
		.description("delete secrets by name")
		.argument("<names...>")
		.action(
			action(async (session: Session, names: string[]) => {
				const api = await session.api();
				const res = await api.call("delete_secrets", { body: names });
				session.out.line(`deleted ${res.join(", ")}`);
			}),
		);

	program
		.command("open")
		.description("open an interactive session (Jupyter) on a run's workspace and print its address")
		.argument("[type]", "the kind of session", "jupyter")
		.option("-w, --workflow <name>", "workflow (NAME, NAME.RUN or id)")
		.option("--json", "print JSON")
		.action(
			action(async (session: Session, type: string, opts: { workflow?: string }) => {
				const api = await session.api();
				const res = await api.call("open_interactive_session", {
					params: { workflow_id_or_name: session.workflow(opts.workflow), interactive_session_type: type },
					body: {},
				});
				// A remote server serves the session at its path (the link's token lets the browser in); a
				// command's own embedded server ends with it, so the session's Jupyter address is given instead.
				const url =
					res.jupyter_url ??
					`${session.config.serverUrl}${res.path}?token=${encodeURIComponent(session.config.accessToken ?? "")}`;
				if (session.out.isJson) return session.out.json({ ...res, url });
				session.out.line(url);
				session.out.note(
					`the session serves the workspace until 'orrery close -w ${session.workflow(opts.workflow)}'; the link holds ${res.jupyter_url ? "the session's token" : "your access token"}: do not share it`,
				);
			}),
		);

	program
		.command("close")
		.description("close a run's interactive session")
		.option("-w, --workflow <name>", "workflow (NAME, NAME.RUN or id)")
		.action(
			action(async (session: Session, opts: { workflow?: string }) => {
				const api = await session.api();
				const res = await api.call("close_interactive_session", {
					params: { workflow_id_or_name: session.workflow(opts.workflow) },
				});
				session.out.line(res.message);
			}),
		);

	program
		.command("info")
		.description("what the server offers: compute backends, workflow engines, workspaces")
		.option("--json", "print JSON")
		.action(
			action(async (session: Session) => {
				const api = await session.api();
				const info = await api.call("info");
				if (session.out.isJson) return session.out.json(info);
				for (const v of Object.values(info))
					session.out.line(`${v.title}: ${Array.isArray(v.value) ? v.value.join(", ") : v.value}`);
			}),
		);
}
