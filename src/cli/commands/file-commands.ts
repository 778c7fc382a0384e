import type { Command } from "commander";
import { ApiError } from "../api-client.js";
import type { Session } from "../session.js";
import type { Action } from "./workflow-commands.js";
import { loadSpec, usage } from "./workflow-commands.js";

/** upload, ls, download. */
export function registerFileCommands(program: Command, action: Action): void {
	program
		.command("upload")
		.description(
			"upload files into a run's workspace (default: the inputs declared in reana.yaml); resumable, parallel, honours .gitignore, .orreryignore and .reanaignore",
		)
		.argument("[paths...]", "files or folders to upload, relative to the current folder")
		.option("-w, --workflow <name>", "workflow (NAME, NAME.RUN or id)")
		.option("-f, --file <path>", "the reana.yaml whose inputs to upload", ".")
		.option("-j, --parallel <n>", "requests at once", "4")
		.option("--no-resume", "upload every file, even those already there with the same checksum")
		.option("--no-ignore", "upload what the ignore files exclude too")
		.action(
			action(
				async (
					session: Session,
					paths: string[],
					opts: { workflow?: string; file: string; parallel: string; resume: boolean; ignore: boolean },
				) => {
					const w = session.workflow(opts.workflow);
					const { remoteFiles, uploadTree } = await import("../tree-transfer.js");
					const api = await session.api();
					// The server lists the workspace while the local folders are walked.
					const remote = opts.resume ? remoteFiles(api, w) : undefined;
					remote?.catch(() => undefined); // awaited (and reported) by uploadTree
					let files: Array<{ local: string; remote: string; size: number; mtimeMs?: number }>;
					if (paths.length > 0) {
						const { localTree } = await import("../local-tree.js");
						files = await localTree(paths, { useIgnoreFiles: opts.ignore });
					} else {
						const { inputFiles } = await import("../spec-files.js");
						const { file, spec } = await loadSpec(opts.file);
						files = await inputFiles(file, spec.reana);
					}
					await uploadTree(api, w, files, {
						parallel: parallelOf(opts.parallel),
						isResuming: opts.resume,
						...(remote ? { remote } : {}),
						note: (t) => session.out.note(t),
					});
				},
			),
		);

	program
		.command("ls")
		.description("list the files of a run's workspace")
		.argument("[pattern]", "only files matching this glob (e.g. 'results/*')")
		.option("-w, --workflow <name>", "workflow (NAME, NAME.RUN or id)")
		.option("--json", "print JSON")
		.action(
			action(async (session: Session, pattern: string | undefined, opts: { workflow?: string }) => {
				const api = await session.api();
				const res = await api.call("get_files", {
					params: { workflow_id_or_name: session.workflow(opts.workflow) },
					query: pattern ? { file_name: pattern } : {},
				});
				if (session.out.isJson) return session.out.json(res);
				session.out.table(
					["name", "size", "last-modified"],
					res.items.map((f) => [f.name, String(f.size.raw), f["last-modified"].replace("T", " ").slice(0, 19)]),
				);
			}),
		);

	program
		.command("download")
		.description(
			"download files from a run's workspace, keeping their paths (folders and globs; small files in tar archives, in parallel, resumable)",
		)
		.argument("[paths...]", "files, folders or globs (default: the outputs declared in reana.yaml)")
		.option("-w, --workflow <name>", "workflow (NAME, NAME.RUN or id)")
		.option("-o, --output-directory <dir>", "where to write the files", ".")
		.option("-j, --parallel <n>", "requests at once", "4")
		.option("--no-resume", "download every file, even those already here with the same checksum")
		.action(
			action(
				async (
					session: Session,
					paths: string[],
					opts: { workflow?: string; outputDirectory: string; parallel: string; resume: boolean },
				) => {
					const w = session.workflow(opts.workflow);
					const api = await session.api();
					let targets = paths;
					if (targets.length === 0) {
						const spec = await api.call("get_workflow_specification", { params: { workflow_id_or_name: w } });
						const outputs = spec.specification.outputs as { files?: string[]; directories?: string[] } | undefined;
						targets = [...(outputs?.files ?? []), ...(outputs?.directories ?? [])];
						if (targets.length === 0) throw usage("name the files to download; the specification declares no outputs");
					}
					const { downloadTree, targetIn } = await import("../tree-transfer.js");
					const files = new Map<string, { remote: string; size: number; target: string; modified: string }>();
					for (const p of targets) {
						const pattern = p.replace(/^\.?\/+/, "").replace(/\/+$/, "");
						const res = await api.call("get_files", {
							params: { workflow_id_or_name: w },
							query: { file_name: pattern },
						});
						if (res.items.length === 0)
							throw new ApiError(404, "not_found", `no file in the workspace of ${w} matches '${p}'`);
						for (const f of res.items) {
							files.set(f.name, {
								remote: f.name,
								size: f.size.raw,
								target: targetIn(opts.outputDirectory, f.name),
								modified: f["last-modified"],
							});
						}
					}
					await downloadTree(api, w, [...files.values()], {
						outputDirectory: opts.outputDirectory,
						parallel: parallelOf(opts.parallel),
						isResuming: opts.resume,
						note: (t) => session.out.note(t),
					});
				},
			),
		);
}

function parallelOf(value: string): number {
	const n = Number(value);
	if (!Number.isInteger(n) || n < 1 || n > 64) throw usage(`--parallel ${value}: give a whole number from 1 to 64`);
	return n;
}
