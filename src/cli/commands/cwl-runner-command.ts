import { createWriteStream } from "node:fs";
import { copyFile, mkdir, readdir, readFile, stat, writeFile } from "node:fs/promises";
import { basename, dirname, join, posix, relative, resolve, sep } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { pathToFileURL } from "node:url";
import type { Command, Option } from "commander";
import { AppError, isAppError } from "../../common/index.js";
import { endedRunStatuses, type WorkflowStatus } from "../../contract/index.js";
import type { ApiClient } from "../api-client.js";
import type { RunnerFlags } from "../cwl-input-options.js";
import { createOutput } from "../output.js";
import type { Session } from "../session.js";
import type { Action } from "./workflow-commands.js";

/** cwltool's exit code for a feature the runner does not support. */
export const unsupportedExitCode = 33;

interface RunnerOptions {
	/** Where to download the outputs; without it they stay in the workspace. */
	outdir?: string;
	basedir?: string;
	quiet?: boolean;
	name?: string;
	/** Input values given on the command line (`-p name=value`), over those of the input object. */
	parameter?: string[];
	/** The process's inputs as cwltool-style options (`--name value`), over those of the input object. */
	inputOptions?: string[];
	/** The runner's own options, to skip among `inputOptions`. */
	runner?: RunnerFlags;
	/** Given the process's input names, the runner options after the document that yield to an input (reset to these values). */
	inputFlags?: (names: ReadonlySet<string>) => Record<string, unknown>;
	/** Only check the document. */
	validate?: boolean;
	/** Only print an input object to fill in. */
	makeTemplate?: boolean;
}

interface Upload {
	local: string;
	remote: string;
	size: number;
}

/** `orrery cwl-runner`: runs a CWL document through the API, cwltool-style (prints the output object as JSON). */
export function registerCwlRunnerCommand(program: Command, action: Action): void {
	const command = program
		.command("cwl-runner")
		.description("run a CWL tool or workflow and print its output object (cwltool-compatible)")
		.argument("<document>", "the .cwl document (optionally with #id)")
		.argument("[job]", "the input object (YAML or JSON)")
		.option("--outdir <dir>", "where output files are downloaded", ".")
		.option("--basedir <dir>", "base for relative locations in the input object (default: its folder)")
		.option("--quiet", "print only the output object and errors")
		.option("-n, --name <name>", "workflow name (default: from the document)")
		.option("--validate", "only check the document (and what it imports and runs), without running it")
		.option("--make-template", "print an input object to fill in (YAML), without running anything")
		.addHelpText(
			"after",
			"\nThe process's inputs may follow as options, as with cwltool: --name value, --flag for a boolean,\n" +
				"an option repeated for an array, a path for a File or Directory; they override the input object's.\n" +
				"  orrery cwl-runner tool.cwl --reads a.fastq --reads b.fastq --threads 4",
		)
		.allowUnknownOption(true)
		.allowExcessArguments(true);
	command.action(
		action(async (session: Session, document: string, _job: unknown, opts: RunnerOptions) => {
			const { document: given, job, ...inputs } = await processArguments(command);
			// Commander's first argument is the first word it did not know, which may be an option it was not told of.
			if (given !== undefined) document = given;
			if (opts.validate || opts.makeTemplate) {
				const { validateCwl } = await import("./workflow-commands.js");
				const cwl = await validateCwl(session, document, { isQuiet: opts.makeTemplate === true });
				if (!opts.makeTemplate) return;
				const { inputTemplate } = await import("../cwl-input-template.js");
				process.stdout.write(inputTemplate(cwl));
				return;
			}
			await runCwl(session, document, job, { ...opts, ...inputs });
		}),
	);
}

/**
 * The input object and the process's inputs given as options, read from the command line after the
 * document. Commander parses a command's own options wherever they are, but an input may have the
 * same name (`--name`, `--outdir`), so the words after the document are read again once the process
 * is known (cwl-input-options.ts): `inputFlags` tells which of the command's options yield to inputs.
 */
export async function processArguments(
	command: Command,
): Promise<Pick<RunnerOptions, "inputOptions" | "runner" | "inputFlags"> & { document?: string; job?: string }> {
	const flags = new Map<string, Option>();
	const global = command.parent?.options ?? []; // --debug, which the program takes anywhere
	for (const o of [...global, ...command.options]) for (const f of [o.long, o.short]) if (f) flags.set(f, o);
	const runner = {
		arity: (flag: string) => {
			const o = flags.get(flag);
			return o === undefined ? undefined : o.variadic ? ("many" as const) : o.required || o.optional ? 1 : 0;
		},
	};
	const raw = (command.parent as unknown as { rawArgs?: string[] } | null)?.rawArgs ?? []; // set by parse(); not typed
	const { splitAtDocument } = await import("../cwl-input-options.js");
	const at = raw.indexOf(command.name());
	const { before, document, job, rest } = splitAtDocument(at < 0 ? command.args : raw.slice(at + 1), runner);
	const inputFlags = (names: ReadonlySet<string>) => {
		// An option after the document whose name is an input is the input's: the command keeps the
		// value given before the document, if any, else its default.
		const values: Record<string, unknown> = {};
		for (const [flag, o] of flags) {
			const isGiven = rest.some((w) => w === flag || w.startsWith(`${flag}=`));
			if (isGiven && names.has(flag.replace(/^--/, "")))
				values[o.attributeName()] = before.has(flag) ? before.get(flag) : o.defaultValue;
		}
		return values;
	};
	return {
		...(document === undefined ? {} : { document }),
		...(job === undefined ? {} : { job }),
		inputOptions: rest,
		runner,
		inputFlags,
	};
}

/** `orrery run workflow.cwl inputs.yml [--input value…]`: runs a CWL document and prints its output object (files stay in the workspace). */
export async function runCwlDocument(
	session: Session,
	document: string,
	command: Command,
	opts: { name?: string; parameter?: string[] },
): Promise<void> {
	const { document: _document, job, ...inputs } = await processArguments(command);
	await runCwl(session, document, job, { ...opts, ...inputs });
}

function unsupported(message: string, isQuiet = false): AppError {
	return new AppError("not_implemented", message, { details: { exitCode: unsupportedExitCode, quiet: isQuiet } });
}

function isUnsupportedMessage(message: string): boolean {
	return /\bunsupported\b/i.test(message);
}

async function runCwl(session: Session, document: string, job: string | undefined, opts: RunnerOptions): Promise<void> {
	const spec = await import("../../spec/index.js");
	const log = createOutput({ isJson: false, stdout: process.stderr });
	const say = (text: string) => {
		if (!opts.quiet) log.note(text);
	};
	const { path: toolPath, fragment } = await splitFragment(resolve(document));
	const toolUri = `${pathToFileURL(toolPath).href}${fragment ? `#${fragment}` : ""}`;
	const { cwlLocalFiles, loadLocalCwl } = await import("../cwl-files.js");
	let cwl: Awaited<ReturnType<typeof loadLocalCwl>>;
	try {
		cwl = await loadLocalCwl(toolUri, { display: (p) => relative(process.cwd(), p) || p });
	} catch (error) {
		if (
			error instanceof spec.SpecError &&
			error.problems.some((p) => p.severity === "error" && isUnsupportedMessage(p.message))
		) {
			throw unsupported(error.message);
		}
		throw error;
	}
	Object.assign(opts, opts.inputFlags?.(new Set(cwl.loaded.process.inputs.map((p) => p.id))));
	for (const w of cwl.loaded.warnings) say(`warning: ${spec.formatProblem(w)}`);
	const jobPath = job === undefined ? undefined : resolve(job);
	const jobValue = jobPath === undefined ? {} : spec.parseCwlText(await readFile(jobPath, "utf8"), basename(jobPath));
	if (typeof jobValue !== "object" || jobValue === null || Array.isArray(jobValue)) {
		throw new AppError("validation_failed", `${job}: the input object must be a mapping of input names to values`);
	}
	const jobBase = pathToFileURL(opts.basedir ? `${resolve(opts.basedir)}/` : (jobPath ?? `${process.cwd()}/`)).href;
	const { parseKeyValues } = await import("../key-values.js");
	const { parameterValues } = await import("../cwl-input-options.js");
	Object.assign(jobValue, parameterValues(cwl.loaded.process, parseKeyValues(opts.parameter, "-p"), process.cwd()));
	if (opts.inputOptions && opts.inputOptions.length > 0) {
		const { parseInputOptions } = await import("../cwl-input-options.js");
		Object.assign(jobValue, parseInputOptions(cwl.loaded.process, opts.inputOptions, process.cwd(), opts.runner));
	}

	// Everything the run reads goes into the workspace, keeping the folders' layout.
	const locals = await cwlLocalFiles(cwl, jobValue, jobBase);
	const anchor = jobPath ?? toolPath;
	const root = commonRoot([...locals.keys(), anchor, toolPath]);
	const remoteOf = (local: string) => posix.join("inputs", relative(root, local).split(sep).join("/"));
	const uploads = await uploadList(locals, remoteOf);
	const remoteJob = posix.join(
		posix.dirname(remoteOf(anchor)),
		`${basename(anchor).replace(/\.[^.]*$/, "")}.orrery-input.json`,
	);
	const rewritten = rewriteLocations(jobValue, jobBase, posix.dirname(remoteJob), remoteOf, spec.uriToPath);

	const api = await session.api();
	const reana = {
		version: "0.9.0",
		inputs: { parameters: { input: remoteJob } },
		workflow: { type: "cwl" as const, file: `${remoteOf(toolPath)}${fragment ? `#${fragment}` : ""}` },
	};
	const name = (opts.name ?? `cwl-${basename(toolPath).replace(/\.cwl$/, "")}`)
		.replace(/[^A-Za-z0-9_-]+/g, "-")
		.slice(0, 100);
	const created = await api.call("create_workflow", {
		query: { workflow_name: name },
		body: reana as Record<string, unknown>,
	});
	const w = created.workflow_name;
	say(`${w} created`);
	const { uploadFiles } = await import("../spec-files.js");
	if (uploads.length > 0) await uploadFiles(api, w, uploads, say);
	const jobText = Buffer.from(JSON.stringify(rewritten, null, 2));
	await api.upload(w, remoteJob, Readable.from([jobText]), jobText.length);
	// The server names the documents by their place in the workspace; the user knows them by their own path.
	const localize = localizer([...uploads, { local: toolPath, remote: remoteOf(toolPath) }]);
	try {
		await api.call("start_workflow", {
			params: { workflow_id_or_name: w },
			body: { input_parameters: {}, operational_options: {} },
		});
	} catch (error) {
		if (isAppError(error) && isUnsupportedMessage(error.message)) throw unsupported(localize(error.message));
		if (isAppError(error))
			throw new AppError(error.code, localize(error.message), { cause: error, details: error.details });
		throw error;
	}
	const { followRun } = await import("../follow.js");
	const status = opts.quiet
		? await waitForEnd(api, w)
		: await followRun(api, log, w, { showJobLogs: true, showEvents: true });
	if (status !== "finished") {
		const final = await api.call("get_workflow_status", { params: { workflow_id_or_name: w } });
		log.note(log.colour("red", `${w} ${status}: ${localize(final.message)}`));
		if (isUnsupportedMessage(final.message)) throw unsupported(localize(final.message), true);
		throw new AppError("conflict", `workflow ${w} ${status}`, { details: { quiet: true } });
	}
	const result = await api.call("get_workflow_outputs", { params: { workflow_id_or_name: w } });
	let outputs: unknown = result.outputs ?? {};
	if (opts.outdir === undefined) {
		const final = await api.call("get_workflow_status", { params: { workflow_id_or_name: w } });
		log.note(
			`${w} finished; outputs are in its workspace${session.isEmbedded ? ` ${final.workspace_path}` : ` (orrery download -w ${w} PATH)`}`,
		);
	} else {
		const outdir = resolve(opts.outdir);
		await mkdir(outdir, { recursive: true });
		// With the embedded server the workspace is on this machine: outputs are copied from it directly.
		const workspace = session.isEmbedded
			? (await api.call("get_workflow_status", { params: { workflow_id_or_name: w } })).workspace_path
			: undefined;
		outputs = await fetchOutputs(outputs, outdir, workspace ? { workspace } : { api, w });
	}
	// Wait until the JSON is written: the CLI exits right after, which would cut a piped stdout short.
	await new Promise<void>((done) => process.stdout.write(`${JSON.stringify(outputs, null, 4)}\n`, () => done()));
}

/**
 * Rewrites the workspace paths of uploaded files in a message (`inputs/tools/a.cwl:5:1: …`) to the
 * paths the user gave, relative to the current folder (`tools/a.cwl:5:1: …`).
 */
export function localizer(files: ReadonlyArray<{ local: string; remote: string }>): (message: string) => string {
	const byRemote = new Map(files.map((f) => [f.remote, relative(process.cwd(), f.local) || f.local]));
	if (byRemote.size === 0) return (message) => message;
	const names = [...byRemote.keys()]
		.sort((a, b) => b.length - a.length)
		.map((r) => r.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"));
	const pattern = new RegExp(`(^|[\\s'"(])(${names.join("|")})(?=[:'"),\\s]|$)`, "g");
	return (message) =>
		message.replace(pattern, (_m, before: string, remote: string) => `${before}${byRemote.get(remote)}`);
}

/** Waits for a run to end by long-polling its events (one request per 30 s, or at the end). */
async function waitForEnd(api: ApiClient, w: string): Promise<string> {
	for (;;) {
		const events = await api.call("get_workflow_events", {
			params: { workflow_id_or_name: w },
			query: { wait: 30, until: "end" },
		});
		if (endedRunStatuses.includes(events.status as WorkflowStatus)) return events.status;
	}
}

/** `tool.cwl#main` → the file and the fragment (a `#` that is part of an existing file name stays). */
async function splitFragment(path: string): Promise<{ path: string; fragment?: string }> {
	if (await stat(path).catch(() => undefined)) return { path };
	const i = path.lastIndexOf("#");
	if (i < 0) throw new AppError("not_found", `${path} does not exist`);
	return { path: path.slice(0, i), fragment: path.slice(i + 1) };
}

function commonRoot(paths: string[]): string {
	const split = paths.map((p) => dirname(p).split(sep));
	const first = split[0] ?? [""];
	let n = first.length;
	for (const parts of split) {
		let i = 0;
		while (i < n && parts[i] === first[i]) i++;
		n = i;
	}
	return first.slice(0, n).join(sep) || sep;
}

async function uploadList(locals: Map<string, boolean>, remoteOf: (p: string) => string): Promise<Upload[]> {
	const out = new Map<string, Upload>();
	const addFile = async (p: string) => {
		const s = await stat(p).catch(() => undefined);
		if (s?.isFile()) out.set(remoteOf(p), { local: p, remote: remoteOf(p), size: s.size });
	};
	for (const [p, isDirectory] of locals) {
		if (!isDirectory) {
			await addFile(p);
			continue;
		}
		for (const e of await readdir(p, { recursive: true, withFileTypes: true }))
			if (e.isFile()) await addFile(join(e.parentPath, e.name));
	}
	return [...out.values()].sort((a, b) => a.remote.localeCompare(b.remote));
}

/** Rewrites File/Directory locations of the input object to point at their uploaded copies (relative to it). */
function rewriteLocations(
	value: unknown,
	base: string,
	remoteDir: string,
	remoteOf: (p: string) => string,
	uriToPath: (u: string) => string,
): unknown {
	if (Array.isArray(value)) return value.map((v) => rewriteLocations(v, base, remoteDir, remoteOf, uriToPath));
	if (typeof value !== "object" || value === null) return value;
	const obj = value as Record<string, unknown>;
	const out: Record<string, unknown> = {};
	for (const [k, v] of Object.entries(obj)) out[k] = rewriteLocations(v, base, remoteDir, remoteOf, uriToPath);
	if (obj.class !== "File" && obj.class !== "Directory") return out;
	let local: string | undefined;
	if (typeof obj.location === "string" && !obj.location.startsWith("_:")) {
		const uri = new URL(obj.location.replace(/^([^:/]*:)(?!\/)/, "./$1"), base).href;
		if (uri.startsWith("file:")) local = uriToPath(uri);
	} else if (typeof obj.path === "string") {
		local = obj.path.startsWith("/") ? obj.path : join(dirname(uriToPath(base)), obj.path);
	}
	if (local === undefined) return out;
	const rel = posix.relative(remoteDir, remoteOf(local));
	out.location = rel.split("/").map(encodeURIComponent).join("/");
	delete out.path;
	return out;
}

/** Output paths already given out in one folder, and the next number to try per name (`2/out`, `3/out`, …). */
/** Copies a run's output files into `outdir` (four downloads at a time) and rewrites their locations. */
/**
 * Places the output files under `outdir`: copied from the workspace when it is on this machine (the
 * embedded server; a location may not leave the workspace folder), otherwise downloaded through the API.
 */
async function fetchOutputs(
	value: unknown,
	outdir: string,
	from: { workspace: string } | { api: ApiClient; w: string },
): Promise<unknown> {
	const { placeOutputs } = await import("../../spec/index.js");
	const placed = placeOutputs(value, outdir, (target) => pathToFileURL(target).href);
	for (const folder of placed.folders) await mkdir(folder, { recursive: true });
	for (const { contents, target } of placed.literals) await writeFile(target, contents);
	const downloads = placed.files.map(({ source, target }) => async () => {
		const location = String(source.location ?? source.path);
		if ("workspace" in from) {
			// The server collected these outputs (refusing links that leave the workspace); the name is
			// checked here too, so it cannot point outside the workspace folder.
			const { targetIn } = await import("../tree-transfer.js");
			await copyFile(targetIn(from.workspace, location), target).catch((error) => {
				if (error?.code !== "ENOENT") throw error;
				throw new AppError("not_found", `the output ${location} is not in the workspace ${from.workspace}`);
			});
		} else await pipeline(await from.api.download(from.w, location), createWriteStream(target));
	});
	const { runAll } = await import("../tree-transfer.js");
	await runAll(downloads, "workspace" in from ? 16 : 4);
	return placed.value;
}
