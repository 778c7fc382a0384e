import { posix } from "node:path";
import type { ReanaSpecification } from "../../contract/index.js";
import {
	type CwlProcess,
	type CwlRequirement,
	cwlParameterFile,
	knownRequirements,
	loadCwl,
	type Parameters,
	type Problem,
	parseCwlText,
	pathToUri,
	resolveUri,
	SpecError,
	typedTextValues,
	uriToPath,
} from "../../spec/index.js";
import { completeInputs } from "./input-values.js";
import { loadListingOf } from "./process-runner.js";
import { CwlRunError, javascriptOf, type RunEnvironment } from "./run-environment.js";

/** A CWL run as the engine sees it: the root process and its completed input object. */
export interface LoadedRun {
	root: CwlProcess;
	inputs: Record<string, unknown>;
	inputBase: string;
	warnings: Problem[];
}

/**
 * Loads the CWL document a reana.yaml names (`workflow.file`, or the packed `specification`
 * reana-client sends, which wins when both are there) and the input object: the parameter file
 * (`workflow.parameters.file`, or REANA's older `inputs.parameters.input`) with the other parameters
 * over it, or else the parameters themselves.
 */
export async function loadRun(
	spec: ReanaSpecification,
	parameters: Parameters,
	env: RunEnvironment,
): Promise<LoadedRun> {
	const loaded = await loadDocument(spec, env);
	let root = loaded.process;
	const { object, base, where } = await inputObject(spec, parameters, root, env);
	const extra = object["cwl:requirements"] ?? object["https://w3id.org/cwl/cwl#requirements"];
	delete object["cwl:requirements"];
	delete object["https://w3id.org/cwl/cwl#requirements"];
	if (Array.isArray(extra)) root = withRequirements(root, extra, where);
	const chain = [root];
	const javascript = javascriptOf(chain);
	const inputs = await completeInputs(object, {
		env,
		process: root,
		javascript,
		base,
		isTopLevel: true,
		loadListing: loadListingOf(chain, root),
	});
	return { root, inputs, inputBase: base, warnings: loaded.warnings };
}

/**
 * The names a run's parameters may have (`-p name=value` at start): the root process's inputs and
 * the names the input object already has.
 */
export async function parameterNames(
	spec: ReanaSpecification,
	parameters: Parameters,
	env: RunEnvironment,
): Promise<string[]> {
	const root = (await loadDocument(spec, env)).process;
	const { object } = await inputObject(spec, parameters, root, env, false);
	return [...new Set([...root.inputs.map((i) => i.id), ...Object.keys(object)])];
}

/**
 * The workspace files (absolute paths) the CWL loader reads for a run: the main document and every
 * document it imports, includes or runs; an inline `specification` is not a file. A document that
 * does not load yields what was read before the failure (validation says why).
 */
export async function documentPaths(spec: ReanaSpecification, env: RunEnvironment): Promise<string[]> {
	const read = new Set<string>();
	try {
		await loadDocument(spec, env, (path) => read.add(path));
	} catch {
		// validate reports what is wrong with the documents; what was read so far is still their record
	}
	return [...read];
}

async function loadDocument(
	spec: ReanaSpecification,
	env: RunEnvironment,
	onRead?: (path: string) => void,
): Promise<{ process: CwlProcess; warnings: Problem[] }> {
	const ws = env.workspace;
	const display = (uri: string) => {
		try {
			const p = uriToPath(uri);
			return p.startsWith(`${ws}/`) ? posix.relative(ws, p) : p;
		} catch {
			return uri;
		}
	};
	const file = spec.workflow.file;
	if (file === undefined && spec.workflow.specification === undefined) {
		throw new SpecError([
			{
				severity: "error",
				file: "reana.yaml",
				path: "workflow.file",
				message: "a cwl workflow needs 'file' (the .cwl document)",
				hint: "add 'file: workflow.cwl' under workflow",
			},
		]);
	}
	let docPath = file ?? "workflow.cwl";
	let fragment = "";
	const hash = docPath.lastIndexOf("#");
	if (hash > 0 && !(await env.files.stat(posix.join(ws, docPath)))) {
		fragment = docPath.slice(hash);
		docPath = docPath.slice(0, hash);
	}
	const mainUri = pathToUri(posix.join(ws, posix.normalize(docPath)));
	// reana-client sends the packed document as `specification` (and `file` only names it).
	const inline = spec.workflow.specification === undefined ? undefined : JSON.stringify(spec.workflow.specification);
	return loadCwl(mainUri + fragment, {
		read: (uri) => {
			if (inline !== undefined && uri === mainUri) return Promise.resolve(inline);
			onRead?.(uriToPath(uri));
			return env.files.readText(uriToPath(uri));
		},
		// Sizes first: an oversized document or $include is refused before it is read.
		size: async (uri) =>
			inline !== undefined && uri === mainUri
				? undefined
				: (await env.files.stat(uriToPath(uri)).catch(() => undefined))?.size,
		display,
	});
}

/**
 * The input object: the parameter file, with the other parameters over it, or the parameters
 * themselves. Parameters given as text (`reana-client start -p max_mag=8`, whose values are always
 * text) are converted by their input's type (unless `isTyped` is false), a path to a File or
 * Directory relative to the workspace.
 */
async function inputObject(
	spec: ReanaSpecification,
	parameters: Parameters,
	root: CwlProcess,
	env: RunEnvironment,
	isTyped = true,
): Promise<{ object: Record<string, unknown>; base: string; where: string }> {
	const ws = env.workspace;
	const typed = (values: Record<string, unknown>) =>
		isTyped
			? typedTextValues(root.inputs, values, {
					labelOf: (name) => `parameter ${name}`,
					locate: (path) => resolveUri(pathToUri(`${ws}/`), path),
					fail: (message) =>
						new SpecError([{ severity: "error", file: "input parameters", path: "", message, hint: "" }]),
				})
			: values;
	const file = cwlParameterFile(spec, parameters);
	if (file !== undefined) {
		const path = posix.join(ws, posix.normalize(file.path));
		if (await env.files.stat(path)) {
			const parsed = parseCwlText(await env.files.readText(path), file.path);
			if (parsed !== null && (typeof parsed !== "object" || Array.isArray(parsed))) {
				throw new SpecError([
					{
						severity: "error",
						file: file.path,
						path: "",
						message: "the input object must be a mapping of input names to values",
						hint: "write e.g. 'reads: {class: File, location: reads.fq}'",
					},
				]);
			}
			return {
				object: { ...((parsed as Record<string, unknown>) ?? {}), ...typed(file.rest) },
				base: pathToUri(path),
				where: file.path,
			};
		}
		// reana-client sends the file's values as `inputs.parameters` too: without the file, they are the input object.
		if (file.isDeclared && Object.keys(file.rest).length === 0) {
			throw new SpecError([
				{
					severity: "error",
					file: "reana.yaml",
					path: "workflow.parameters.file",
					message: `the parameter file ${file.path} is not in the workspace`,
					hint: "upload it, or list it under inputs.files so that it is uploaded with the workflow",
				},
			]);
		}
	}
	return { object: typed(parameters), base: pathToUri(`${ws}/`), where: "inputs.parameters" };
}

function withRequirements(root: CwlProcess, extra: unknown[], where: string): CwlProcess {
	const reqs: CwlRequirement[] = [];
	for (const r of extra) {
		if (typeof r !== "object" || r === null || typeof (r as { class?: unknown }).class !== "string") {
			throw new CwlRunError(`${where}: each entry of cwl:requirements needs a 'class'`);
		}
		const cls = (r as { class: string }).class;
		if (!(knownRequirements as readonly string[]).includes(cls))
			throw new CwlRunError(`${where}: unsupported requirement '${cls}' in cwl:requirements`);
		reqs.push(r as CwlRequirement);
	}
	const classes = new Set(reqs.map((r) => r.class));
	return { ...root, requirements: [...root.requirements.filter((r) => !classes.has(r.class)), ...reqs] } as CwlProcess;
}
