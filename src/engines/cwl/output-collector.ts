import { createHash } from "node:crypto";
import { posix } from "node:path";
import { type CwlOutputBinding, type CwlSecondaryFile, type CwlType, pathToUri, resolveUri } from "../../spec/index.js";
import { type ExpressionScope, evaluate } from "./expression-evaluator.js";
import {
	type FileValue,
	isDirectory,
	isFile,
	isFileOrDirectory,
	mapFileValues,
	pathOfValue,
	placeAt,
	secondaryName,
	withNameFields,
} from "./file-values.js";
import { expandPrefix, listDirectory, loadContents } from "./input-files.js";
import { globOutputs, MAX_GLOB_MATCHES } from "./output-glob.js";
import { CwlRunError, javascriptOf, type RunEnvironment, whereOf } from "./run-environment.js";
import type { Invocation } from "./tool-invocation.js";
import { outputMismatch } from "./value-types.js";

/** The largest `cwl.output.json` read: a tool could write gigabytes, and the server parses it in memory. */
export const MAX_OUTPUT_JSON_BYTES = 64 * 1024 * 1024;

interface OutputSpec {
	id: string;
	type: CwlType;
	outputBinding?: CwlOutputBinding | undefined;
	secondaryFiles: CwlSecondaryFile[];
	format?: string | string[] | undefined;
}

/** Collects the outputs of a finished tool invocation: `cwl.output.json` if written, else each output's glob and outputEval. */
export async function collectOutputs(
	inv: Invocation,
	exitCode: number,
	env: RunEnvironment,
): Promise<Record<string, unknown>> {
	const outdir = inv.runtime.outdir as string;
	const javascript = javascriptOf(inv.scopes);
	const runtime = { ...inv.runtime, exitCode };
	const base: Omit<ExpressionScope, "self" | "where"> = {
		inputs: inv.inputs,
		runtime,
		...(javascript ? { javascript } : {}),
		timeoutMs: env.timeoutMs,
	};
	const where = (field: string) => whereOf(inv.tool, env.workspace, inv.tool.loc, field);
	const jsonPath = `${outdir}/cwl.output.json`;
	let outputs: Record<string, unknown>;
	const jsonInfo = await env.files.stat(jsonPath);
	if (jsonInfo) {
		if (jsonInfo.size > MAX_OUTPUT_JSON_BYTES)
			throw new CwlRunError(
				`${where("outputs")}: the tool wrote a cwl.output.json of ${jsonInfo.size} bytes, more than the limit of ${MAX_OUTPUT_JSON_BYTES}`,
			);
		// Only the size seen: something still writing the file must not make the read unbounded.
		const head = await env.files.readHead(jsonPath, jsonInfo.size);
		if (head.isTruncated)
			throw new CwlRunError(
				`${where("outputs")}: cwl.output.json grew while it was read; write it before the tool ends`,
			);
		let parsed: unknown;
		try {
			parsed = JSON.parse(head.text);
		} catch (error) {
			throw new CwlRunError(
				`${where("outputs")}: the tool wrote a cwl.output.json that is not valid JSON (${(error as Error).message})`,
			);
		}
		if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed))
			throw new CwlRunError(`${where("outputs")}: cwl.output.json must hold an object`);
		const resolved = (await mapFileValues(parsed, async (f) =>
			finishValue(resolveIn(f, outdir), env, where("cwl.output.json")),
		)) as Record<string, unknown>;
		outputs = {};
		for (const o of inv.tool.outputs) outputs[o.id] = resolved[o.id] ?? null;
	} else {
		outputs = {};
		for (const o of inv.tool.outputs) outputs[o.id] = await collectOne(o, outdir, base, env, where);
	}
	for (const o of inv.tool.outputs) {
		const mismatch = outputMismatch(o.type, outputs[o.id] ?? null, o.id);
		if (mismatch) {
			const missing = outputs[o.id] === null || outputs[o.id] === undefined;
			throw new CwlRunError(
				`${whereOf(inv.tool, env.workspace, o.loc, `output '${o.id}'`)}: ${missing ? `no value for the required output '${o.id}' (did the tool write the file its glob names?)` : mismatch}`,
			);
		}
	}
	return outputs;
}

function resolveIn(f: FileValue, outdir: string): FileValue {
	const v: FileValue = { ...f };
	if (typeof v.location === "string" && !v.location.startsWith("_:"))
		v.location = resolveUri(`${pathToUri(outdir)}/`, v.location);
	else if (typeof v.path === "string") v.path = v.path.startsWith("/") ? v.path : posix.join(outdir, v.path);
	return v;
}

async function collectOne(
	o: OutputSpec,
	outdir: string,
	base: Omit<ExpressionScope, "self" | "where">,
	env: RunEnvironment,
	where: (field: string) => string,
): Promise<unknown> {
	const t = Array.isArray(o.type) ? (o.type.find((x) => x !== "null") ?? "null") : o.type;
	if (typeof t === "object" && !Array.isArray(t) && t.type === "record" && !o.outputBinding) {
		const rec: Record<string, unknown> = {};
		for (const f of t.fields) {
			rec[f.name] = await collectOne(
				{
					id: `${o.id}.${f.name}`,
					type: f.type,
					outputBinding: f.outputBinding,
					secondaryFiles: f.secondaryFiles,
					format: f.format,
				},
				outdir,
				base,
				env,
				where,
			);
		}
		return rec;
	}
	const binding = o.outputBinding;
	if (!binding) return null;
	const at = (field: string) => where(`outputs.${o.id}.outputBinding.${field}`);
	const files: FileValue[] = [];
	if (binding.glob !== undefined) {
		const patterns: string[] = [];
		for (const g of Array.isArray(binding.glob) ? binding.glob : [binding.glob]) {
			const v = evaluate(g, { ...base, self: null, where: at("glob") });
			for (const p of Array.isArray(v) ? v : [v]) {
				if (p === null || p === undefined) continue;
				if (typeof p !== "string")
					throw new CwlRunError(`${at("glob")}: must give file names, got ${JSON.stringify(p)}`);
				patterns.push(p);
			}
		}
		// Every path first, so the limit holds before any match is stat'ed and checksummed.
		const matched: string[] = [];
		for (const p of patterns) {
			const matches = await globOutputs(p, outdir, env.files, at("glob"));
			if (matched.length + matches.length > MAX_GLOB_MATCHES)
				throw new CwlRunError(
					`${at("glob")}: the patterns of the output '${o.id}' match more than ${MAX_GLOB_MATCHES} paths, the limit per output`,
				);
			for (const match of matches) matched.push(match);
		}
		for (const match of matched) {
			const info = await env.files.stat(match);
			if (!info) continue;
			files.push(
				await finishValue(placeAt({ class: info.isDirectory ? "Directory" : "File" }, match), env, at("glob")),
			);
		}
		if (binding.loadContents) {
			for (const f of files) if (isFile(f)) f.contents = await loadContents(f, env, at("loadContents"));
		}
	}
	let value: unknown = files;
	if (binding.outputEval !== undefined) {
		value = evaluate(binding.outputEval, { ...base, self: files, where: at("outputEval") });
		value = await mapFileValues(value, async (f) => finishValue(resolveIn(f, outdir), env, at("outputEval")));
	} else if (!isArrayish(o.type) && isFileType(o.type)) {
		if (files.length > 1)
			throw new CwlRunError(`${at("glob")}: ${files.length} files match, but the output '${o.id}' takes one`);
		value = files[0] ?? null;
	}
	value = await addSecondaryFiles(value, o, base, env, at);
	if (o.format !== undefined) {
		value = await mapFileValues(value, async (f) => {
			if (!isFile(f)) return f;
			const fmt = evaluate(Array.isArray(o.format) ? o.format[0] : o.format, {
				...base,
				self: f,
				where: where(`outputs.${o.id}.format`),
			});
			return typeof fmt === "string" ? { ...f, format: expandPrefix(fmt, {}) } : f;
		});
	}
	return value;
}

function isArrayish(type: CwlType): boolean {
	if (Array.isArray(type)) return type.some(isArrayish);
	return type === "Any" || (typeof type === "object" && type.type === "array");
}

function isFileType(type: CwlType): boolean {
	if (Array.isArray(type)) return type.some(isFileType);
	return type === "File" || type === "Directory";
}

async function addSecondaryFiles(
	value: unknown,
	o: OutputSpec,
	base: Omit<ExpressionScope, "self" | "where">,
	env: RunEnvironment,
	at: (field: string) => string,
): Promise<unknown> {
	if (o.secondaryFiles.length === 0) return value;
	return mapFileValues(value, async (f) => {
		if (!isFile(f)) return f;
		const path = pathOfValue(f);
		if (!path) return f;
		const attached: unknown[] = Array.isArray(f.secondaryFiles) ? [...f.secondaryFiles] : [];
		for (const sf of o.secondaryFiles) {
			const scope = { ...base, self: f, where: at("secondaryFiles") };
			const required = typeof sf.required === "string" ? Boolean(evaluate(sf.required, scope)) : (sf.required ?? false);
			const produced = evaluate(sf.pattern, scope);
			for (const item of Array.isArray(produced) ? produced : [produced]) {
				if (item === null || item === undefined) continue;
				if (isFileOrDirectory(item)) {
					attached.push(await finishValue(resolveIn(item, posix.dirname(path)), env, at("secondaryFiles")));
					continue;
				}
				const isExpression = sf.pattern.includes("$(") || sf.pattern.includes("${");
				const pattern = typeof item === "object" ? String((item as { pattern?: unknown }).pattern) : String(item);
				const p = posix.join(
					posix.dirname(path),
					isExpression && typeof item === "string" ? pattern : secondaryName(String(f.basename), pattern),
				);
				const info = await env.files.stat(p);
				if (!info) {
					if (required)
						throw new CwlRunError(
							`${at("secondaryFiles")}: the required secondary file ${posix.basename(p)} was not produced`,
						);
					continue;
				}
				attached.push(
					await finishValue(placeAt({ class: info.isDirectory ? "Directory" : "File" }, p), env, at("secondaryFiles")),
				);
			}
		}
		return { ...f, secondaryFiles: attached };
	});
}

/** Completes an output File/Directory: names, size and checksum of files, a deep listing of directories. */
export async function finishValue(v: FileValue, env: RunEnvironment, where: string): Promise<FileValue> {
	const named = withNameFields(v);
	const path = pathOfValue(named);
	if (path === undefined) {
		// A literal (an ExpressionTool's `contents`): its size and checksum follow from the text.
		if (isFile(named) && typeof named.contents === "string") {
			const bytes = Buffer.from(named.contents);
			return { ...named, size: bytes.length, checksum: `sha1$${createHash("sha1").update(bytes).digest("hex")}` };
		}
		return named;
	}
	const info = await env.files.stat(path);
	if (!info) throw new CwlRunError(`${where}: the output ${posix.basename(path)} does not exist`);
	if (isDirectory(named)) {
		if (!Array.isArray(named.listing)) named.listing = await listDirectory(path, true, env, where);
		named.listing = await mapFileValues(named.listing, async (e) => (isFile(e) ? checksummed(e, env) : e));
		return named;
	}
	named.size = info.size;
	return checksummed(named, env);
}

async function checksummed(f: FileValue, env: RunEnvironment): Promise<FileValue> {
	const path = pathOfValue(f);
	if (!path || typeof f.checksum === "string") return f;
	return { ...f, checksum: `sha1$${await env.files.sha1(path)}` };
}
