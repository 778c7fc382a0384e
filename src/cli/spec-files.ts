import { readdir, stat } from "node:fs/promises";
import { basename, dirname, join, relative, resolve } from "node:path";
import { AppError } from "../common/index.js";
import type { ReanaSpecification } from "../contract/index.js";
import type { ApiClient } from "./api-client.js";
import { IgnoreRules } from "./local-tree.js";
import { uploadTree } from "./tree-transfer.js";

/** Finds the reana.yaml for a path: the file itself, or reana.yaml / reana.yml inside a directory. */
export async function findSpecFile(path: string): Promise<string> {
	const abs = resolve(path);
	const s = await stat(abs).catch(() => undefined);
	if (!s) throw new AppError("not_found", `${path} does not exist`);
	if (s.isFile()) return abs;
	for (const name of ["reana.yaml", "reana.yml"]) {
		const candidate = join(abs, name);
		if (await stat(candidate).catch(() => undefined)) return candidate;
	}
	throw new AppError("not_found", `no reana.yaml in ${path}; pass the file with -f or run in the analysis folder`);
}

/** A workflow name from an analysis folder's name (`examples/helloworld` → `helloworld`). */
export function defaultWorkflowName(specFile: string): string {
	const folder = basename(dirname(specFile));
	const clean = folder.replace(/[^A-Za-z0-9_-]+/g, "-").replace(/^-+|-+$/g, "");
	return clean || "workflow";
}

/**
 * The local files a specification needs in the workspace: declared inputs and workflow definition
 * files; for CWL also every document the workflow reads and every local File and Directory its input
 * object (with `parameters`, the `-p` values) and defaults name.
 */
export async function inputFiles(
	specFile: string,
	spec: ReanaSpecification,
	parameters: Record<string, unknown> = {},
): Promise<Array<{ local: string; remote: string; size: number; mtimeMs: number }>> {
	const base = dirname(specFile);
	const out = new Map<string, { local: string; remote: string; size: number; mtimeMs: number }>();
	const rules = new IgnoreRules(base);
	const addFile = async (rel: string) => {
		const local = resolve(base, rel);
		const s = await stat(local).catch(() => undefined);
		if (!s?.isFile()) {
			throw new AppError(
				"not_found",
				`the input file ${rel} declared in ${basename(specFile)} does not exist in ${base}`,
			);
		}
		const remote = relative(base, local).split("\\").join("/");
		out.set(remote, { local, remote, size: s.size, mtimeMs: s.mtimeMs });
	};
	const addDir = async (rel: string) => {
		const root = resolve(base, rel);
		const s = await stat(root).catch(() => undefined);
		if (!s?.isDirectory()) {
			throw new AppError(
				"not_found",
				`the input directory ${rel} declared in ${basename(specFile)} does not exist in ${base}`,
			);
		}
		for (const entry of await readdir(root, { recursive: true, withFileTypes: true })) {
			if (!entry.isFile()) continue;
			const abs = join(entry.parentPath, entry.name);
			if (await rules.isIgnored(abs, false)) continue;
			await addFile(relative(base, abs));
		}
	};
	for (const f of spec.inputs?.files ?? []) await addFile(f);
	for (const d of spec.inputs?.directories ?? []) await addDir(d);
	const wf = spec.workflow;
	if (wf.type === "cwl") {
		// The document may name a process in it (`main.cwl#main`); the CWL loader finds the file.
		const { cwlSpecFiles } = await import("./cwl-files.js");
		for (const f of await cwlSpecFiles(specFile, spec, parameters)) await (f.isDirectory ? addDir : addFile)(f.path);
	} else if (wf.type !== "serial" && wf.file) await addFile(wf.file);
	// Snakemake's config file, in REANA's older spelling (the newer, workflow.parameters.file, follows).
	const legacyConfig = spec.inputs?.parameters?.input;
	if (wf.type === "snakemake" && typeof legacyConfig === "string" && /\.(ya?ml|json)$/i.test(legacyConfig))
		await addFile(legacyConfig);
	for (const f of wf.files ?? []) await addFile(f);
	for (const d of wf.directories ?? []) await addDir(d);
	if (wf.parameters?.file) await addFile(wf.parameters.file);
	return [...out.values()].sort((a, b) => a.remote.localeCompare(b.remote));
}

/**
 * The local workflow files of a specification, as the workspace holds them: `workflow.file` (a serial
 * spec file, a Snakefile) and, for CWL, every document it imports, includes or runs. Files that do not
 * exist locally are left out (a serial workflow may have its steps inline).
 */
export async function workflowFiles(
	specFile: string,
	spec: ReanaSpecification,
): Promise<Array<{ local: string; remote: string; size: number }>> {
	const base = dirname(specFile);
	const wf = spec.workflow;
	let paths: string[];
	if (wf.type === "cwl") {
		const { cwlDocumentFiles } = await import("./cwl-files.js");
		paths = await cwlDocumentFiles(specFile, spec);
	} else {
		const file = wf.file ?? (wf.type === "snakemake" ? "Snakefile" : undefined);
		paths = file === undefined ? [] : [file];
	}
	const out: Array<{ local: string; remote: string; size: number }> = [];
	for (const p of paths) {
		const local = resolve(base, p);
		const s = await stat(local).catch(() => undefined);
		if (!s?.isFile()) continue;
		const remote = relative(base, local).split("\\").join("/");
		if (remote.startsWith("../")) continue;
		out.push({ local, remote, size: s.size });
	}
	return out;
}

/** Uploads files (resumable, parallel, small ones as tar archives), with a progress bar on a terminal. */
export async function uploadFiles(
	api: ApiClient,
	workflow: string,
	files: Array<{ local: string; remote: string; size: number; mtimeMs?: number }>,
	note: (text: string) => void,
	parallel = 4,
): Promise<void> {
	await uploadTree(api, workflow, files, { note, parallel });
}
