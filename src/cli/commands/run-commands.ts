import { join } from "node:path";
import type { Command } from "commander";
import { AppError } from "../../common/index.js";
import type { JobLogDetail, LogsDocument } from "../../contract/index.js";
import { parseKeyValues } from "../key-values.js";
import { statusColour } from "../output.js";
import type { Session } from "../session.js";
import { type Action, loadSpec, printWarnings } from "./workflow-commands.js";

/** run (create + upload + start + follow) and logs. */
export function registerRunCommands(program: Command, action: Action): void {
	const run = program
		.command("run")
		.description("create, upload, start and follow a workflow in one go")
		.argument("[path]", "the analysis folder or its reana.yaml (or a .cwl document)", ".")
		.argument("[inputs]", "for a .cwl document: its input object (YAML or JSON), then its inputs as --name value")
		.option("-n, --name <name>", "workflow name (default: the folder's name)")
		.option("-p, --parameter <key=value...>", "override an input parameter")
		.option("-o, --option <key=value...>", "operational option (FROM, TARGET, CACHE)")
		.option("--no-follow", "return once the run is queued (remote servers only)")
		.option("--json", "print the final status as JSON")
		// A .cwl document's inputs may follow it as options (as with cwl-runner); anything else is refused below.
		.allowUnknownOption(true)
		.allowExcessArguments(true);
	run.action(
		action(
			async (
				session: Session,
				given: string,
				_inputs: string | undefined,
				opts: { name?: string; parameter?: string[]; option?: string[]; follow: boolean },
			) => {
				const path = folderAfterOptions(given, run.args, opts);
				if (path.startsWith("-"))
					throw new AppError("validation_failed", `unknown option '${path}'`, { details: { usage: true } });
				if (/\.cwl(#.*)?$/.test(path))
					return (await import("./cwl-runner-command.js")).runCwlDocument(session, path, run, opts);
				const extra = run.args.slice(1);
				if (extra.length > 0)
					throw new AppError(
						"validation_failed",
						extra[0]?.startsWith("-")
							? `unknown option '${extra[0]}' (inputs as options are for a .cwl document; parameters are -p name=value)`
							: `too many arguments: '${extra.join(" ")}' (one analysis folder or reana.yaml)`,
						{ details: { usage: true } },
					);
				const { defaultWorkflowName, inputFiles, uploadFiles } = await import("../spec-files.js");
				const parameters = parseKeyValues(opts.parameter, "-p");
				const { file, spec } = await loadSpec(path, parameters);
				await printWarnings(session, spec.warnings);
				const files = await inputFiles(file, spec.reana, parameters);
				const api = await session.api();
				const created = await api.call("create_workflow", {
					query: { workflow_name: opts.name ?? defaultWorkflowName(file) },
					body: spec.reana as Record<string, unknown>,
				});
				const w = created.workflow_name;
				session.out.note(
					`${session.out.colour("bold", w)} created${session.isEmbedded ? " (embedded server, local backend)" : ` on ${api.baseUrl}`}`,
				);
				if (files.length > 0) await uploadFiles(api, w, files, (t) => session.out.note(t));
				await api.call("start_workflow", {
					params: { workflow_id_or_name: w },
					body: { input_parameters: parameters, operational_options: parseKeyValues(opts.option, "-o") },
				});
				if (!opts.follow && !session.isEmbedded) {
					if (session.out.isJson)
						return session.out.json({ workflow_name: w, workflow_id: created.workflow_id, status: "queued" });
					session.out.line(`${w} queued; follow it with: orrery logs -w ${w} --follow`);
					return;
				}
				const { followRun } = await import("../follow.js");
				const status = await followRun(api, session.out, w, {
					showJobLogs: !session.out.isJson,
					showEvents: !session.out.isJson,
				});
				const final = await api.call("get_workflow_status", { params: { workflow_id_or_name: w } });
				if (session.out.isJson) {
					session.out.json(final);
				} else {
					session.out.line();
					session.out.line(
						`${w} ${session.out.colour(statusColour(status), status)}${status === "finished" ? "" : `: ${final.message}`}`,
					);
					if (session.isEmbedded) session.out.line(`workspace: ${final.workspace_path}`);
					const outputs = [...(spec.reana.outputs?.files ?? []), ...(spec.reana.outputs?.directories ?? [])];
					for (const o of outputs) {
						session.out.line(
							session.isEmbedded
								? `output:    ${join(final.workspace_path, o)}`
								: `output:    ${o}  (orrery download -w ${w} ${o})`,
						);
					}
				}
				if (status !== "finished")
					throw new AppError("conflict", `workflow ${w} ${status}`, { details: { quiet: true } });
			},
		),
	);

	program
		.command("logs")
		.description("the logs of a run: its events and the output of every job")
		.option("-w, --workflow <name>", "workflow (NAME, NAME.RUN or id)")
		.option("--follow", "keep printing new output until the run ends")
		.option("--step <name...>", "only these steps")
		.option("--json", "print JSON")
		.action(
			action(async (session: Session, opts: { workflow?: string; follow?: boolean; step?: string[] }) => {
				const w = session.workflow(opts.workflow);
				const api = await session.api();
				if (opts.follow) {
					const { followRun } = await import("../follow.js");
					const status = await followRun(api, session.out, w, { showJobLogs: true, showEvents: true });
					session.out.note(`${w} ${status}`);
					return;
				}
				const res = await api.call("get_workflow_logs", {
					params: { workflow_id_or_name: w },
					query: opts.step ? { steps: opts.step } : {},
				});
				const doc = JSON.parse(res.logs) as LogsDocument;
				if (session.out.isJson) return session.out.json({ ...res, logs: doc });
				session.out.line(session.out.colour("bold", "workflow engine logs"));
				session.out.line(doc.workflow_logs);
				for (const [id, job] of Object.entries(doc.job_logs)) {
					// Orrery's additions sit beside job_logs (REANA's servers send none).
					const detail: Partial<JobLogDetail> = doc.job_details?.[id] ?? {};
					const attempt = detail.attempt ?? 1;
					session.out.line();
					session.out.line(
						session.out.colour("bold", `step: ${job.job_name}${attempt > 1 ? ` (attempt ${attempt})` : ""}`),
					);
					session.out.line(`command: ${job.cmd}`);
					session.out.line(
						`status: ${session.out.colour(statusColour(job.status), job.status)}${detail.exit_code === null || detail.exit_code === undefined ? "" : ` (exit code ${detail.exit_code})`}`,
					);
					session.out.line(
						`backend: ${job.compute_backend}${job.docker_img ? ` · image ${job.docker_img}${detail.image_used === false ? " (not used)" : ""}` : ""}`,
					);
					if (job.logs) session.out.line(`logs:\n${job.logs.trimEnd()}`);
				}
			}),
		);
}

/**
 * The analysis folder of `orrery run -p a=1 FOLDER`: -p and -o take several pairs each (`-p a=1 b=2`),
 * so the folder after them arrives as one more of their values. When no folder came as an argument
 * and the last value of the last such option is no key=value pair, it is the folder. A .cwl
 * document's inputs follow it, so its place stays first (`orrery run wf.cwl -p …`).
 */
function folderAfterOptions(
	given: string,
	args: readonly string[],
	opts: { parameter?: string[]; option?: string[] },
): string {
	if (args.length > 0) return given;
	for (const [flag, values] of [
		["-p", opts.parameter],
		["-o", opts.option],
	] as const) {
		const last = values?.[values.length - 1];
		if (last === undefined || last.includes("=")) continue;
		if (/\.cwl(#.*)?$/.test(last))
			throw new AppError(
				"validation_failed",
				`${flag} ${last}: a .cwl document comes first, its parameters after it: orrery run ${last} ${flag} key=value`,
				{ details: { usage: true } },
			);
		values?.pop();
		return last;
	}
	return given;
}
