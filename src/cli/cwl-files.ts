import { readdir, readFile, stat } from "node:fs/promises";
import { basename, dirname, isAbsolute, join, posix, relative, resolve, sep } from "node:path";
import { pathToFileURL } from "node:url";
import { AppError } from "../common/index.js";
import type { ReanaSpecification } from "../contract/index.js";
import {
	cwlParameterFile,
	fileLocations,
	type LoadedCwl,
	loadCwl,
	parseCwlText,
	processReferences,
	typedTextValues,
	uriToPath,
	withoutFragment,
} from "../spec/index.js";

/** A CWL document loaded from local files, with the path of every file the loader read. */
export interface LocalCwl {
	loaded: LoadedCwl;
	/** The documents read: the main one, `$import`s, `$include`s and `run:` documents. */
	documents: string[];
}

/** How to load a local CWL document. */
export interface LocalCwlOptions {
	/** How a path is shown in messages. */
	display?: (path: string) => string;
	/** The text of the main document, when it does not come from its file (reana.yaml's `workflow.specification`). */
	inline?: string;
}

/** Loads a CWL document from local files (a SpecError names the document, line and field of a problem). */
export async function loadLocalCwl(uri: string, options: LocalCwlOptions = {}): Promise<LocalCwl> {
	const read = new Set<string>();
	const main = withoutFragment(uri);
	const display = options.display;
	const loaded = await loadCwl(uri, {
		read: async (u) => {
			if (options.inline !== undefined && u === main) return options.inline;
			read.add(uriToPath(withoutFragment(u)));
			return readFile(uriToPath(u), "utf8");
		},
		...(display ? { display: (u: string) => (u.startsWith("file:") ? display(uriToPath(u)) : u) } : {}),
	});
	return { loaded, documents: [...read] };
}

/**
 * The local files and folders a CWL run reads (absolute path → is a folder): its documents, the
 * `$schemas` ontologies, and every existing local File and Directory that the input object, the
 * defaults and InitialWorkDir listings name, with the secondary files their patterns match.
 */
export async function cwlLocalFiles(
	cwl: LocalCwl,
	inputObject: unknown,
	inputBase: string,
): Promise<Map<string, boolean>> {
	const refs = processReferences(cwl.loaded.process);
	const locals = new Map<string, boolean>();
	for (const p of cwl.documents) locals.set(p, false);
	for (const s of refs.schemas) if (s.startsWith("file:")) locals.set(uriToPath(s), false);
	for (const f of [...refs.locations, ...fileLocations(inputObject, inputBase)]) {
		if (!f.uri.startsWith("file:")) continue;
		const p = uriToPath(f.uri);
		const s = await stat(p).catch(() => undefined);
		if (!s) continue;
		locals.set(p, s.isDirectory());
		if (s.isDirectory()) continue;
		const siblings = refs.hasExpressionPatterns
			? await readdir(dirname(p)).catch(() => [])
			: refs.patterns.map((pat) => secondaryName(basename(p), pat));
		for (const name of siblings) {
			const sp = join(dirname(p), name);
			if ((await stat(sp).catch(() => undefined))?.isFile()) locals.set(sp, false);
		}
	}
	return locals;
}

/**
 * What a reana.yaml of type cwl reads from its analysis folder, as the server will find it in the
 * workspace: the document `workflow.file` names (or the inline `workflow.specification`) and all it
 * reads, the input object file (`workflow.parameters.file`, or `inputs.parameters.input`), and the files and folders the input
 * object (else the parameters) and the defaults name. Paths are relative to the folder; a file
 * outside it is an error, since the workspace could not hold it at the path the workflow uses.
 */
export async function cwlSpecFiles(
	specFile: string,
	spec: ReanaSpecification,
	parameters: Record<string, unknown> = {},
): Promise<Array<{ path: string; isDirectory: boolean }>> {
	const loaded = await loadSpecCwl(specFile, spec);
	if (!loaded) return [];
	const { cwl, base, docPath } = loaded;
	// The input object, as the engine reads it (engines/cwl/run-loader.ts): values given as text typed
	// by their input (`-p reads=data/r.fq` names a File to upload); a value the type refuses is left to
	// the server to report.
	const given = { ...(spec.inputs?.parameters ?? {}), ...parameters };
	const typed = (values: Record<string, unknown>) => {
		try {
			return typedTextValues(cwl.loaded.process.inputs, values, {
				labelOf: (name) => name,
				locate: (path) => pathToFileURL(resolve(base, path)).href,
				fail: (message) => new Error(message),
			});
		} catch {
			return values;
		}
	};
	let inputObject: unknown = typed(given);
	let inputBase = pathToFileURL(`${base}/`).href;
	const extra: string[] = [];
	const parameterFile = cwlParameterFile(spec, given);
	if (parameterFile !== undefined) {
		const path = resolve(base, parameterFile.path);
		const text = await readFile(path, "utf8").catch(() => undefined);
		if (text !== undefined) {
			const values = parseCwlText(text, parameterFile.path);
			inputObject =
				typeof values === "object" && values !== null ? { ...values, ...typed(parameterFile.rest) } : values;
			inputBase = pathToFileURL(path).href;
			extra.push(path);
		}
	}
	const locals = await cwlLocalFiles(cwl, inputObject, inputBase);
	for (const p of extra) locals.set(p, false);
	const out: Array<{ path: string; isDirectory: boolean }> = [];
	for (const [local, isDirectory] of locals) {
		const rel = relative(base, local);
		if (rel === "" || rel.split(sep)[0] === ".." || isAbsolute(rel)) {
			throw new AppError(
				"validation_failed",
				`the CWL workflow ${docPath} reads ${local}, which is outside the analysis folder ${base}; move it into the folder (the workspace holds only what is inside)`,
			);
		}
		out.push({ path: rel.split(sep).join("/"), isDirectory });
	}
	return out.sort((a, b) => a.path.localeCompare(b.path));
}

/**
 * The CWL documents a reana.yaml of type cwl reads from its analysis folder (relative paths): the
 * document `workflow.file` names and every document it imports, includes or runs.
 */
export async function cwlDocumentFiles(specFile: string, spec: ReanaSpecification): Promise<string[]> {
	const loaded = await loadSpecCwl(specFile, spec);
	if (!loaded) return [];
	return loaded.cwl.documents
		.map((p) => relative(loaded.base, p))
		.filter((rel) => rel !== "" && rel.split(sep)[0] !== ".." && !isAbsolute(rel))
		.map((rel) => rel.split(sep).join("/"))
		.sort();
}

/** Loads the CWL document of a reana.yaml from its folder; undefined when the specification names none. */
async function loadSpecCwl(
	specFile: string,
	spec: ReanaSpecification,
): Promise<{ cwl: LocalCwl; base: string; docPath: string } | undefined> {
	const base = dirname(resolve(specFile));
	const file = spec.workflow.file;
	if (file === undefined && spec.workflow.specification === undefined) return undefined;
	let docPath = file ?? "workflow.cwl";
	let fragment = "";
	const hash = docPath.lastIndexOf("#");
	if (hash > 0 && !(await stat(resolve(base, docPath)).catch(() => undefined))) {
		fragment = docPath.slice(hash);
		docPath = docPath.slice(0, hash);
	}
	const inline = spec.workflow.specification === undefined ? undefined : JSON.stringify(spec.workflow.specification);
	if (inline === undefined && !(await stat(resolve(base, docPath)).catch(() => undefined))?.isFile()) {
		throw new AppError(
			"not_found",
			`the workflow file ${docPath} named in ${basename(specFile)} does not exist in ${base}`,
		);
	}
	const display = (p: string) => relative(base, p) || p;
	const cwl = await loadLocalCwl(`${pathToFileURL(resolve(base, posix.normalize(docPath))).href}${fragment}`, {
		display,
		...(inline === undefined ? {} : { inline }),
	});
	return { cwl, base, docPath };
}

function secondaryName(primary: string, pattern: string): string {
	let base = primary;
	let p = pattern.replace(/\?$/, "");
	while (p.startsWith("^")) {
		const dot = base.lastIndexOf(".");
		if (dot > 0) base = base.slice(0, dot);
		p = p.slice(1);
	}
	return base + p;
}
