import { createHash } from "node:crypto";
import { posix } from "node:path";
import { type CwlProcess, type CwlSecondaryFile, pathToUri, resolveUri, uriToPath } from "../../spec/index.js";
import { isRemoteLocation, stagedPathOf } from "../../storage/index.js";
import { evaluate } from "./expression-evaluator.js";
import {
	type FileValue,
	isDirectory,
	isFile,
	isFileOrDirectory,
	pathOfValue,
	placeAt,
	secondaryName,
	withNameFields,
} from "./file-values.js";
import { formatMatches } from "./format-ontology.js";
import { CwlRunError, type RunEnvironment } from "./run-environment.js";

/** CWL's limit for `loadContents`. */
export const loadContentsLimit = 64 * 1024;

/** How inputs of one process invocation are completed and checked. */
export interface InputOptions {
	env: RunEnvironment;
	process: CwlProcess;
	javascript: readonly string[] | undefined;
	/** The URI relative locations of the given values resolve against (the input object's file). */
	base: string;
	/** Top-level inputs: secondary files are looked for; inside a workflow they must already be attached. */
	isTopLevel: boolean;
	/** Listing depth for Directory inputs without their own loadListing. */
	loadListing: string;
	/** Runtime values for expressions in secondaryFiles and format. */
	runtime?: Record<string, unknown>;
}

/** What a parameter (or record field) says about its Files. */
export interface FileSettings {
	secondaryFiles: CwlSecondaryFile[];
	format?: string | string[] | undefined;
	loadContents?: boolean | undefined;
	loadListing?: string | undefined;
}

/** Resolves a File/Directory of an input: location, names, size, listing, contents, secondary files, format. */
export async function prepareFile(
	value: FileValue,
	settings: FileSettings,
	opts: InputOptions,
	inputs: Record<string, unknown>,
	where: string,
): Promise<FileValue> {
	let v = await resolveValue(value, opts.base, opts.env, where);
	if (isDirectory(v)) {
		// An explicit loadListing reads the directory again: a step before may have changed it.
		const fresh = settings.loadListing !== undefined && pathOfValue(v) !== undefined ? { ...v, listing: undefined } : v;
		if (settings.loadListing === "no_listing") return v;
		return withListing(fresh, settings.loadListing ?? opts.loadListing, opts, where);
	}
	if (Array.isArray(v.secondaryFiles)) {
		const sec: unknown[] = [];
		for (const s of v.secondaryFiles)
			sec.push(isFileOrDirectory(s) ? await resolveValue(s, opts.base, opts.env, where) : s);
		v.secondaryFiles = sec;
	}
	if (settings.secondaryFiles.length > 0)
		v = await attachSecondaryFiles(v, settings.secondaryFiles, opts, inputs, where);
	if (typeof v.format === "string") v.format = expandPrefix(v.format, opts.process.namespaces);
	if (settings.format !== undefined) await checkFormat(v, settings.format, opts, inputs, where);
	if (settings.loadContents && v.contents === undefined) v.contents = await loadContents(v, opts.env, where);
	return v;
}

/** Resolves a File/Directory's location against a base and fills its name fields and size. */
export async function resolveValue(
	value: FileValue,
	base: string,
	env: RunEnvironment,
	where: string,
): Promise<FileValue> {
	let v: FileValue = { ...value };
	if (typeof v.location === "string" && !v.location.startsWith("_:")) {
		let uri = resolveUri(base, v.location);
		if (isRemoteLocation(uri)) {
			// s3:// and https:// inputs are staged into the workspace before the first job (scheduler).
			const staged = posix.join(env.workspace, stagedPathOf(uri));
			if (!(await env.files.stat(staged))) return withNameFields({ ...v, location: uri });
			uri = pathToUri(staged);
		}
		if (!uri.startsWith("file:"))
			throw new CwlRunError(
				`${where}: only local files are supported, not ${v.location} (hint: stage the file into the workspace first)`,
			);
		v.location = uri;
		delete v.path;
	} else if (typeof v.path === "string") {
		// Relative to the folder of the input object's file, or to the base itself when it is a folder
		// (parameters given in reana.yaml resolve against the workspace, `file:///…/workspace/`).
		const from = uriToPath(base);
		v.path = v.path.startsWith("/") ? v.path : posix.join(from.endsWith("/") ? from : posix.dirname(from), v.path);
		delete v.location;
	}
	const path = pathOfValue(v);
	if (path === undefined) {
		// A literal: a File with `contents`, or a Directory with `listing`.
		if (isFile(v) && typeof v.contents !== "string")
			throw new CwlRunError(`${where}: a File needs a location, a path or contents`);
		v.basename ??= `${v.class === "File" ? "file" : "dir"}-${createHash("sha1").update(JSON.stringify(v)).digest("hex").slice(0, 10)}`;
		if (Array.isArray(v.listing)) {
			const listing: unknown[] = [];
			for (const e of v.listing) listing.push(isFileOrDirectory(e) ? await resolveValue(e, base, env, where) : e);
			v.listing = listing;
		}
		return withNameFields(v);
	}
	const info = await env.files.stat(path);
	if (!info)
		throw new CwlRunError(
			`${where}: the ${v.class === "File" ? "file" : "directory"} ${posix.relative(env.workspace, path) || path} does not exist`,
		);
	if (info.isDirectory !== (v.class === "Directory")) {
		throw new CwlRunError(
			`${where}: ${posix.basename(path)} is a ${info.isDirectory ? "directory" : "file"}, but the input expects a ${v.class}`,
		);
	}
	const basename = typeof v.basename === "string" ? v.basename : undefined;
	v = placeAt(v, path);
	if (basename !== undefined) v = withNameFields({ ...v, basename });
	if (v.class === "File") v.size = info.size;
	return v;
}

async function withListing(dir: FileValue, depth: string, opts: InputOptions, where: string): Promise<FileValue> {
	if (Array.isArray(dir.listing) || depth === "no_listing") return dir;
	const path = pathOfValue(dir);
	if (!path) return dir;
	return { ...dir, listing: await listDirectory(path, depth === "deep_listing", opts.env, where) };
}

/** The listing of a directory as File and Directory objects (recursively when deep). */
export async function listDirectory(
	path: string,
	deep: boolean,
	env: RunEnvironment,
	where: string,
	budget = { left: 100_000 },
): Promise<FileValue[]> {
	const out: FileValue[] = [];
	for (const e of await env.files.list(path)) {
		if (--budget.left < 0) throw new CwlRunError(`${where}: the directory ${path} holds too many entries to list`);
		const child = posix.join(path, e.name);
		let v = placeAt({ class: e.isDirectory ? "Directory" : "File" }, child);
		if (e.isDirectory && deep) v = { ...v, listing: await listDirectory(child, true, env, where, budget) };
		if (!e.isDirectory) v.size = (await env.files.stat(child))?.size ?? 0;
		out.push(v);
	}
	return out;
}

/** Reads up to 64 KiB of a file for `contents`; a longer file is an error (CWL v1.2). */
export async function loadContents(file: FileValue, env: RunEnvironment, where: string): Promise<string> {
	if (typeof file.contents === "string") return file.contents;
	const path = pathOfValue(file);
	if (!path) throw new CwlRunError(`${where}: cannot load the contents of a file without a location`);
	const head = await env.files.readHead(path, loadContentsLimit);
	if (head.isTruncated) {
		throw new CwlRunError(
			`${where}: loadContents is limited to 64 KiB, but ${posix.basename(path)} is larger (hint: read the file in the tool instead)`,
		);
	}
	return head.text;
}

async function attachSecondaryFiles(
	file: FileValue,
	patterns: CwlSecondaryFile[],
	opts: InputOptions,
	inputs: Record<string, unknown>,
	where: string,
): Promise<FileValue> {
	const attached = Array.isArray(file.secondaryFiles) ? [...(file.secondaryFiles as unknown[])] : [];
	const hasName = (name: string) => attached.some((s) => isFileOrDirectory(s) && s.basename === name);
	const path = pathOfValue(file);
	for (const sf of patterns) {
		const scope = {
			inputs,
			self: file,
			runtime: opts.runtime ?? {},
			...(opts.javascript ? { javascript: opts.javascript } : {}),
			where: `${where} secondaryFiles`,
			timeoutMs: opts.env.timeoutMs,
		};
		const required = typeof sf.required === "string" ? Boolean(evaluate(sf.required, scope)) : (sf.required ?? true);
		const produced = evaluate(sf.pattern, scope);
		for (const item of Array.isArray(produced) ? produced : [produced]) {
			if (item === null || item === undefined) continue;
			if (isFileOrDirectory(item)) {
				if (!hasName(String(item.basename ?? ""))) attached.push(await resolveValue(item, opts.base, opts.env, where));
				continue;
			}
			const isExpression = sf.pattern.includes("$(") || sf.pattern.includes("${");
			const pattern = typeof item === "object" ? String((item as { pattern?: unknown }).pattern) : String(item);
			// An expression gives the file name itself; a plain pattern is a suffix (with ^ to strip extensions).
			const name = isExpression && typeof item === "string" ? pattern : secondaryName(String(file.basename), pattern);
			if (hasName(name)) continue;
			if (!opts.isTopLevel || !path) {
				if (required)
					throw new CwlRunError(
						`${where}: the required secondary file ${name} of ${String(file.basename)} is missing (hint: declare secondaryFiles on the workflow input too)`,
					);
				continue;
			}
			const sibling = posix.join(posix.dirname(path), name);
			const info = await opts.env.files.stat(sibling);
			if (!info) {
				if (required)
					throw new CwlRunError(
						`${where}: the required secondary file ${name} of ${String(file.basename)} does not exist`,
					);
				continue;
			}
			const sec = placeAt({ class: info.isDirectory ? "Directory" : "File" }, sibling);
			if (!info.isDirectory) sec.size = info.size;
			attached.push(sec);
		}
	}
	return { ...file, secondaryFiles: attached };
}

async function checkFormat(
	file: FileValue,
	format: string | string[],
	opts: InputOptions,
	inputs: Record<string, unknown>,
	where: string,
): Promise<void> {
	const scope = {
		inputs,
		self: file,
		runtime: opts.runtime ?? {},
		...(opts.javascript ? { javascript: opts.javascript } : {}),
		where: `${where} format`,
		timeoutMs: opts.env.timeoutMs,
	};
	const wanted = (Array.isArray(format) ? format : [format]).flatMap((f) => {
		const v = evaluate(f, scope);
		return (Array.isArray(v) ? v : [v]).map((x) => expandPrefix(String(x), opts.process.namespaces));
	});
	if (typeof file.format !== "string") return;
	const schemas = opts.process.schemas.filter((s) => s.startsWith("file:")).map((s) => uriToPath(s));
	for (const w of wanted) if (await formatMatches(file.format, w, schemas, opts.env.files)) return;
	throw new CwlRunError(
		`${where}: ${String(file.basename)} has format ${file.format}, but the input expects ${wanted.join(" or ")}`,
	);
}

/** Expands a namespace prefix (`edam:format_1` → `http://edamontology.org/format_1`). */
export function expandPrefix(value: string, namespaces: Record<string, string>): string {
	const m = /^([A-Za-z_][\w.-]*):(?!\/\/)(.*)$/.exec(value);
	if (m && namespaces[m[1] as string]) return `${namespaces[m[1] as string]}${m[2]}`;
	return value;
}
