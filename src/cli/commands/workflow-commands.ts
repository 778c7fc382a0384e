import type { Command } from "commander";
import { AppError } from "../../common/index.js";
import type { CwlProcess } from "../../spec/index.js";
import { parseKeyValues } from "../key-values.js";
import { statusColour } from "../output.js";
import type { Session } from "../session.js";

/** Wraps a command action so it gets a session; errors propagate to main. */
export type Action = (
	handler: (session: Session, ...args: never[]) => Promise<void>,
) => (...args: unknown[]) => Promise<void>;

/** Loads and checks a CWL document locally, with everything it imports and runs (errors name file, line and field). */
export async function validateCwl(
	session: Session,
	document: string,
	options: { isQuiet?: boolean } = {},
): Promise<CwlProcess> {
	const { relative, resolve } = await import("node:path");
	const { pathToFileURL } = await import("node:url");
	const { loadLocalCwl } = await import("../cwl-files.js");
	const hash = document.lastIndexOf("#");
	const [path, fragment] = hash < 0 ? [document, undefined] : [document.slice(0, hash), document.slice(hash + 1)];
	const uri = `${pathToFileURL(resolve(path)).href}${fragment ? `#${fragment}` : ""}`;
	const { loaded } = await loadLocalCwl(uri, { display: (p) => relative(process.cwd(), p) || p });
	const { process: cwl, warnings } = loaded;
	if (session.out.isJson)
		session.out.json({ file: document, valid: true, class: cwl.class, cwlVersion: cwl.cwlVersion, warnings });
	else {
		await printWarnings(session, warnings);
		if (!options.isQuiet) session.out.line(`${document} is a valid CWL ${cwl.cwlVersion} ${cwl.class}`);
	}
	return cwl;
}

/** Loads and validates a reana.yaml locally (errors name file, line and column). */
export async function loadSpec(path: string, parameters?: Record<string, unknown>) {
	const { loadReanaSpecFile } = await import("../../spec/index.js");
	const { findSpecFile } = await import("../spec-files.js");
	const file = await findSpecFile(path);
	const spec = await loadReanaSpecFile(file, parameters ? { parameters } : {});
	return { file, spec };
}

/** Prints validation warnings to stderr. */
export async function printWarnings(
	session: Session,
	warnings: Array<{
		file: string;
		line?: number;
		column?: number;
		path: string;
		message: string;
		hint: string;
		severity: "error" | "warning";
	}>,
): Promise<void> {
	const { formatProblem } = await import("../../spec/index.js");
	for (const w of warnings) session.out.note(session.out.colour("yellow", `warning: ${formatProblem(w)}`));
}

/** ping, list, create, validate, start, status, stop, delete. */
export function registerWorkflowCommands(program: Command, action: Action): void {
	program
		.command("ping")
		.description("check the connection to the server and who you are")
		.option("--json", "print JSON")
		.action(
			action(async (session: Session) => {
				const api = await session.api();
				const you = await api.call("get_you");
				const info = await api.call("info");
				if (session.out.isJson) return session.out.json({ server: api.baseUrl, user: you.email, info });
				session.out.line(`REANA server: ${api.baseUrl}${session.isEmbedded ? " (embedded)" : ""}`);
				session.out.line(`Authenticated as: ${you.full_name ? `${you.full_name} ` : ""}<${you.email}>`);
				session.out.line(`Status: Connected`);
				session.out.line(`Compute backends: ${info.compute_backends.value.join(", ")}`);
			}),
		);

	program
		.command("list")
		.description("list your workflow runs")
		.option("--status <status...>", "only runs in these states (created, queued, running, finished, failed, stopped)")
		.option("--search <name>", "only runs whose name contains this")
		.option("--sort <order>", "by creation date: desc (default) or asc", "desc")
		.option("--page <n>", "page number", (v) => positive(v, "--page"))
		.option("--size <n>", "runs per page", (v) => positive(v, "--size"))
		.option("--include-workspace-size", "show each workspace's disk usage")
		.option("--shared", "also runs others shared with you")
		.option("--shared-with-me", "only runs others shared with you")
		.option("--shared-by <email>", "only runs this user shared with you")
		.option("--shared-with <email|group:NAME>", "only your runs shared with this user or group")
		.option("--sessions", "only runs with an open interactive session, and its address")
		.option("--json", "print JSON")
		.action(
			action(
				async (
					session: Session,
					opts: {
						sessions?: boolean;
						status?: string[];
						search?: string;
						sort: string;
						page?: number;
						size?: number;
						includeWorkspaceSize?: boolean;
						shared?: boolean;
						sharedWithMe?: boolean;
						sharedBy?: string;
						sharedWith?: string;
					},
				) => {
					if (opts.sort !== "asc" && opts.sort !== "desc") throw usage("--sort takes asc or desc");
					const api = await session.api();
					const res = await api.call("get_workflows", {
						query: {
							type: opts.sessions ? "interactive" : "batch",
							...(opts.status ? { status: opts.status.flatMap((s) => s.split(",")) } : {}),
							...(opts.search ? { search: opts.search } : {}),
							sort: opts.sort,
							...(opts.page ? { page: opts.page } : {}),
							...(opts.size ? { size: opts.size } : {}),
							...(opts.includeWorkspaceSize ? { include_workspace_size: true } : {}),
							...(opts.shared ? { shared: true } : {}),
							...(opts.sharedWithMe ? { shared_with_me: true } : {}),
							...(opts.sharedBy ? { shared_by: opts.sharedBy } : {}),
							...(opts.sharedWith ? { shared_with: opts.sharedWith } : {}),
						},
					});
					const isShared = Boolean(opts.shared || opts.sharedWithMe || opts.sharedBy || opts.sharedWith);
					if (session.out.isJson) return session.out.json(res);
					if (opts.sessions) {
						if (res.items.length === 0)
							return session.out.note("no interactive sessions open; open one with: orrery open -w RUN");
						return session.out.table(
							["name", "session", "status", "path"],
							res.items.map((w) => [w.name, w.session_type ?? "", w.session_status ?? "", w.session_uri ?? ""]),
						);
					}
					if (res.items.length === 0)
						return session.out.note("no workflows yet; run one with: orrery run examples/helloworld");
					const headers = [
						...(isShared ? ["owner"] : []),
						"name",
						"created",
						"started",
						"ended",
						"status",
						...(opts.includeWorkspaceSize ? ["size"] : []),
					];
					session.out.table(
						headers,
						res.items.map((w) => [
							...(isShared ? [w.owner_email] : []),
							w.name,
							short(w.created),
							short(w.progress.run_started_at),
							short(w.progress.run_finished_at ?? w.progress.run_stopped_at),
							session.out.colour(statusColour(w.status), w.status),
							...(opts.includeWorkspaceSize ? [w.size.human_readable] : []),
						]),
					);
					if (res.has_next) session.out.note(`page ${res.page}; more with --page ${res.page + 1}`);
				},
			),
		);

	program
		.command("validate")
		.description("check a reana.yaml (schema, parameters, step names) or a CWL document, without running it")
		.argument("[path]", "a reana.yaml (or its folder), or a .cwl document (optionally with #id); default: -f")
		.option("-f, --file <path>", "the reana.yaml (or its folder)", ".")
		.option("--json", "print JSON")
		.action(
			action(async (session: Session, path: string | undefined, opts: { file: string }) => {
				const target = path ?? opts.file;
				if (/\.cwl(#.*)?$/.test(target)) {
					await validateCwl(session, target);
					return;
				}
				const { file, spec } = await loadSpec(target);
				if (session.out.isJson) return session.out.json({ file, valid: true, warnings: spec.warnings });
				await printWarnings(session, spec.warnings);
				session.out.line(`${file} is a valid ${spec.type} workflow specification`);
			}),
		);

	program
		.command("create")
		.description("create a workflow run from a reana.yaml (nothing is uploaded or started)")
		.option("-f, --file <path>", "the reana.yaml (or its folder)", ".")
		.option("-n, --name <name>", "workflow name (default: the folder's name)")
		.option("--json", "print JSON")
		.action(
			action(async (session: Session, opts: { file: string; name?: string }) => {
				const { defaultWorkflowName } = await import("../spec-files.js");
				const { file, spec } = await loadSpec(opts.file);
				await printWarnings(session, spec.warnings);
				const api = await session.api();
				const res = await api.call("create_workflow", {
					query: { workflow_name: opts.name ?? defaultWorkflowName(file) },
					body: spec.reana as Record<string, unknown>,
				});
				if (session.out.isJson) return session.out.json(res);
				session.out.line(res.workflow_name);
				session.out.note(`created; upload inputs with: orrery upload -w ${res.workflow_name}`);
			}),
		);

	program
		.command("start")
		.description("start a created run")
		.option("-w, --workflow <name>", "workflow (NAME, NAME.RUN or id); default $ORRERY_WORKON / $REANA_WORKON")
		.option("-p, --parameter <key=value...>", "override an input parameter")
		.option("-o, --option <key=value...>", "operational option (FROM, TARGET, CACHE)")
		.option("--follow", "follow progress and logs until the run ends")
		.option("--json", "print JSON")
		.action(
			action(
				async (
					session: Session,
					opts: { workflow?: string; parameter?: string[]; option?: string[]; follow?: boolean },
				) => {
					const w = session.workflow(opts.workflow);
					const api = await session.api();
					const answer = await api.call("start_workflow", {
						params: { workflow_id_or_name: w },
						body: {
							input_parameters: parseKeyValues(opts.parameter, "-p"),
							operational_options: parseKeyValues(opts.option, "-o"),
						},
					});
					const res = { ...answer, workflow_name: startedRun(answer) };
					if (opts.follow || session.isEmbedded) {
						const { followRun } = await import("../follow.js");
						const status = await followRun(api, session.out, res.workflow_name, {
							showJobLogs: !session.out.isJson,
							showEvents: !session.out.isJson,
						});
						if (session.out.isJson) return session.out.json({ ...res, status });
						session.out.line(`${res.workflow_name} ${session.out.colour(statusColour(status), status)}`);
						if (status !== "finished")
							throw new AppError("conflict", `workflow ${res.workflow_name} ${status}`, { details: { quiet: true } });
						return;
					}
					if (session.out.isJson) return session.out.json(res);
					session.out.line(`${res.workflow_name} has been queued`);
				},
			),
		);

	program
		.command("status")
		.description("status and progress of a run")
		.option("-w, --workflow <name>", "workflow (NAME, NAME.RUN or id)")
		.option("--json", "print JSON")
		.action(
			action(async (session: Session, opts: { workflow?: string }) => {
				const api = await session.api();
				const s = await api.call("get_workflow_status", {
					params: { workflow_id_or_name: session.workflow(opts.workflow) },
				});
				if (session.out.isJson) return session.out.json(s);
				const p = s.progress;
				session.out.table(
					["name", "status", "progress", "started", "ended", "step"],
					[
						[
							s.name,
							session.out.colour(statusColour(s.status), s.status),
							`${p.finished.total}/${p.total.total}`,
							short(p.run_started_at),
							short(p.run_finished_at ?? p.run_stopped_at),
							p.current_step_name ?? "-",
						],
					],
				);
				if (s.message && s.status !== "finished") session.out.line(`\n${s.message}`);
			}),
		);

	program
		.command("stop")
		.description("stop a running run (its jobs are killed)")
		.option("-w, --workflow <name>", "workflow (NAME, NAME.RUN or id)")
		.option("--json", "print JSON")
		.action(
			action(async (session: Session, opts: { workflow?: string }) => {
				const api = await session.api();
				const res = await api.call("set_workflow_status", {
					params: { workflow_id_or_name: session.workflow(opts.workflow) },
					query: { status: "stop" },
					body: {},
				});
				if (session.out.isJson) return session.out.json(res);
				session.out.line(res.message);
			}),
		);

	program
		.command("delete")
		.description("delete a run and its workspace")
		.option("-w, --workflow <name>", "workflow (NAME, NAME.RUN or id)")
		.option("--include-all-runs", "delete every run of this name")
		.option("--include-workspace", "accepted for REANA compatibility; the workspace is always deleted")
		.option("--json", "print JSON")
		.action(
			action(async (session: Session, opts: { workflow?: string; includeAllRuns?: boolean }) => {
				const api = await session.api();
				const res = await api.call("set_workflow_status", {
					params: { workflow_id_or_name: session.workflow(opts.workflow) },
					query: { status: "deleted" },
					body: { workspace: true, ...(opts.includeAllRuns ? { all_runs: true } : {}) },
				});
				if (session.out.isJson) return session.out.json(res);
				session.out.line(res.message);
			}),
		);
}

/** A usage error (exit code 64). */
export function usage(message: string): AppError {
	return new AppError("validation_failed", message, { details: { usage: true } });
}

function positive(value: string, flag: string): number {
	const n = Number(value);
	if (!Number.isInteger(n) || n < 1) throw usage(`${flag} takes a whole number of 1 or more`);
	return n;
}

/** A timestamp shortened for tables: `2026-11-27 11:15:36`. */
export function short(iso: string | null | undefined): string {
	return iso ? iso.replace("T", " ").slice(0, 19) : "-";
}

/** The run a start answered: REANA's shape gives the base name and `run_number` apart. */
export function startedRun(res: { workflow_name: string; run_number?: number | string }): string {
	return res.run_number === undefined ? res.workflow_name : `${res.workflow_name}.${res.run_number}`;
}
