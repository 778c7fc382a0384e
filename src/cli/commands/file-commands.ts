import { createWriteStream } from "node:fs";
import { mkdir, rename, stat } from "node:fs/promises";
import { dirname, join, relative, resolve } from "node:path";
import { pipeline } from "node:stream/promises";
import type { Command } from "commander";
import { formatBytes, ProgressLine } from "../progress-line.js";
import type { Session } from "../session.js";
import type { Action } from "./workflow-commands.js";
import { loadSpec, usage } from "./workflow-commands.js";

/** upload, ls, download. */
export function registerFileCommands(program: Command, action: Action): void {
	program
		.command("upload")
		.description("upload files into a run's workspace (default: the inputs declared in reana.yaml)")
		.argument("[paths...]", "files or folders to upload, relative to the current folder")
		.option("-w, --workflow <name>", "workflow (NAME, NAME.RUN or id)")
		.option("-f, --file <path>", "the reana.yaml whose inputs to upload", ".")
		.action(
			action(async (session: Session, paths: string[], opts: { workflow?: string; file: string }) => {
				const w = session.workflow(opts.workflow);
				const { inputFiles, uploadFiles } = await import("../spec-files.js");
				let files: Array<{ local: string; remote: string; size: number }>;
				if (paths.length > 0) {
					files = [];
					for (const p of paths) files.push(...(await localTree(p)));
				} else {
					const { file, spec } = await loadSpec(opts.file);
					files = await inputFiles(file, spec.reana);
				}
				const api = await session.api();
				await uploadFiles(api, w, files, (t) => session.out.note(t));
			}),
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
		.description("download files from a run's workspace (a folder or glob arrives as a zip)")
		.argument("[paths...]", "files, folders or globs (default: the outputs declared in reana.yaml)")
		.option("-w, --workflow <name>", "workflow (NAME, NAME.RUN or id)")
		.option("-o, --output-directory <dir>", "where to write the files", ".")
		.action(
			action(async (session: Session, paths: string[], opts: { workflow?: string; outputDirectory: string }) => {
				const w = session.workflow(opts.workflow);
				const api = await session.api();
				let targets = paths;
				if (targets.length === 0) {
					const spec = await api.call("get_workflow_specification", { params: { workflow_id_or_name: w } });
					const outputs = spec.specification.outputs as { files?: string[]; directories?: string[] } | undefined;
					targets = [...(outputs?.files ?? []), ...(outputs?.directories ?? [])];
					if (targets.length === 0) throw usage("name the files to download; the specification declares no outputs");
				}
				for (const p of targets) {
					const res = await api.download(w, p);
					const isZip = String(res.headers["content-type"] ?? "").startsWith("application/zip");
					const disposition = String(res.headers["content-disposition"] ?? "");
					const zipName = /filename="([^"]+)"/.exec(disposition)?.[1] ?? "files.zip";
					const outDir = resolve(opts.outputDirectory);
					const target = resolve(outDir, isZip ? zipName.replace(/[/\\]/g, "_") : p);
					if (relative(outDir, target).startsWith("..")) throw usage(`${p} would be written outside ${outDir}`);
					await mkdir(dirname(target), { recursive: true });
					const total = Number(res.headers["content-length"] ?? 0);
					const progress = new ProgressLine();
					let received = 0;
					res.on("data", (c: Buffer) => {
						received += c.length;
						progress.update(p, received, total || received, formatBytes(received));
					});
					// Written next to the target and renamed, so an interrupted download leaves no half file behind.
					const partial = `${target}.orrery-partial`;
					await pipeline(res, createWriteStream(partial));
					await rename(partial, target);
					progress.clear();
					session.out.note(`${p} → ${relative(process.cwd(), target) || target} (${formatBytes(received)})`);
				}
			}),
		);
}

/** The files under a local path, with their workspace names (relative to the current folder). */
async function localTree(path: string): Promise<Array<{ local: string; remote: string; size: number }>> {
	const { readdir } = await import("node:fs/promises");
	const abs = resolve(path);
	const s = await stat(abs).catch(() => undefined);
	if (!s) throw usage(`${path} does not exist`);
	const remoteOf = (p: string) => {
		const rel = relative(process.cwd(), p).split("\\").join("/");
		if (rel.startsWith(".."))
			throw usage(`${path} is outside the current folder; run upload from a folder that contains it`);
		return rel;
	};
	if (s.isFile()) return [{ local: abs, remote: remoteOf(abs), size: s.size }];
	const out: Array<{ local: string; remote: string; size: number }> = [];
	for (const e of await readdir(abs, { recursive: true, withFileTypes: true })) {
		if (!e.isFile()) continue;
		const local = join(e.parentPath, e.name);
		out.push({ local, remote: remoteOf(local), size: (await stat(local)).size });
	}
	return out;
}
