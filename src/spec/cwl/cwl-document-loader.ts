import type { Problem } from "../problem.js";
import { SpecError } from "../problem.js";
import { type CwlProcess, type CwlVersion, cwlVersions } from "./cwl-model.js";
import type { NormaliseContext } from "./cwl-normalise-context.js";
import { normaliseProcess } from "./cwl-normalise-process.js";
import { checkProcessSemantics } from "./cwl-semantics.js";
import { fragmentOf, lastSegment, resolveUri, withoutFragment } from "./cwl-uri.js";
import { carrySource, MAX_DOCUMENT_BYTES, parseCwlText, sourceOf } from "./cwl-yaml.js";

/** The most text `$include` may bring into one load, all files together (each counted once). */
export const MAX_INCLUDE_BYTES = 64 * 1024 * 1024;

/** How the loader reads documents: the CLI reads local files, the engine reads the workspace. */
export interface CwlLoadOptions {
	read(uri: string): Promise<string>;
	/**
	 * The size in bytes of what `read` would return, if the reader can tell without reading: the loader
	 * then refuses a document or `$include` over its limit before reading it. Without it, the limits
	 * are checked after the read.
	 */
	size?(uri: string): Promise<number | undefined>;
	/** How to show a URI in messages (e.g. relative to the workspace). */
	display?(uri: string): string;
}

/** A loaded, normalised CWL process, with what was read to get it. */
export interface LoadedCwl {
	process: CwlProcess;
	/** Every document URI read (the main one first). */
	documents: string[];
	warnings: Problem[];
}

type Json = Record<string, unknown>;

/** Objects brought in by `$import`, with the URI their relative references resolve against. */
const importedBase = new WeakMap<object, string>();

/** The base URI of a value brought in by `$import`, or the given default. */
export function baseOf(value: unknown, fallback: string): string {
	return typeof value === "object" && value !== null ? (importedBase.get(value) ?? fallback) : fallback;
}

/**
 * Loads a CWL document (YAML or JSON), resolving `$import`, `$include`, `$graph`, `#fragment`
 * references and `run:` documents, upgrades v1.0/v1.1 to v1.2 semantics, and validates it.
 * Every problem names the document, the line and the field; the first error throws a SpecError.
 */
export async function loadCwl(uri: string, options: CwlLoadOptions): Promise<LoadedCwl> {
	const display = options.display ?? ((u: string) => decodeURIComponent(lastSegment(withoutFragment(u))));
	const docs = new Map<string, unknown>();
	const problems: Problem[] = [];
	const fetchDoc = async (docUri: string, from?: { value: unknown; field: string }): Promise<unknown> => {
		const key = withoutFragment(docUri);
		if (docs.has(key)) return docs.get(key);
		let text: string;
		try {
			const size = await options.size?.(key);
			if (size !== undefined && size > MAX_DOCUMENT_BYTES)
				throw new Error(`it is ${size} bytes, more than the limit of ${MAX_DOCUMENT_BYTES} for a CWL document`);
			text = await options.read(key);
		} catch (cause) {
			const where = from ? sourceOf(from.value, from.field) : undefined;
			throw new SpecError([
				{
					severity: "error",
					file: where?.file ?? display(key),
					...(where ? { line: where.line, column: where.column } : {}),
					path: from?.field ?? "",
					message: `cannot read ${display(key)}: ${(cause as Error).message ?? String(cause)}`,
					hint: "check that the file exists next to the document that names it",
				},
			]);
		}
		const parsed = parseCwlText(text, display(key));
		docs.set(key, parsed);
		const expanded = await expandDirectives(parsed, key, fetchDoc, includeText);
		docs.set(key, expanded);
		return expanded;
	};
	const includes = new Map<string, Promise<string>>();
	let includedBytes = 0;
	const includeText = (target: string, from: Json): Promise<string> => {
		const key = withoutFragment(target);
		let text = includes.get(key);
		if (!text) {
			text = readInclude(key, from, display, options, (bytes) => {
				includedBytes += bytes;
				return includedBytes <= MAX_INCLUDE_BYTES;
			});
			includes.set(key, text);
		}
		return text;
	};
	const root = await fetchDoc(uri);
	const rootVersion = versionOf(root, display(uri), problems);
	const namespaces = isRecord(root) && isRecord(root.$namespaces) ? (root.$namespaces as Record<string, string>) : {};
	const schemas =
		isRecord(root) && Array.isArray(root.$schemas)
			? (root.$schemas as unknown[]).map((s) => resolveUri(withoutFragment(uri), String(s)))
			: [];
	const ctx: NormaliseContext = {
		display,
		problems,
		namespaces,
		schemas,
		types: new Map(),
		processes: new Map(),
		loading: new Set(),
		resolveRun: async (ref, base, version, from) => {
			const target = resolveUri(base, ref);
			const doc = await fetchDoc(target, from);
			const picked = pickProcess(doc, target, display, from);
			const docVersion =
				isRecord(doc) && typeof doc.cwlVersion === "string" ? versionOf(doc, display(target), problems) : version;
			return { raw: picked, base: withoutFragment(target), version: docVersion };
		},
	};
	registerSchemaDefs(root, withoutFragment(uri), ctx);
	for (const [docUri, doc] of docs) if (docUri !== withoutFragment(uri)) registerSchemaDefs(doc, docUri, ctx);
	const raw = pickProcess(root, uri, display);
	const process = await normaliseProcess(raw, withoutFragment(uri), rootVersion, ctx);
	checkProcessSemantics(process, ctx.problems);
	const errors = problems.filter((p) => p.severity === "error");
	if (errors.length > 0) throw new SpecError([...errors, ...problems.filter((p) => p.severity === "warning")]);
	return { process, documents: [...docs.keys()], warnings: problems };
}

function versionOf(doc: unknown, file: string, problems: Problem[]): CwlVersion {
	const v = isRecord(doc) ? doc.cwlVersion : undefined;
	if (v === undefined) return "v1.2";
	const clean = String(v).replace(/^https:\/\/w3id.org\/cwl\/cwl#/, "");
	if ((cwlVersions as readonly string[]).includes(clean)) return clean as CwlVersion;
	const where = sourceOf(doc, "cwlVersion");
	problems.push({
		severity: "error",
		file,
		...(where ? { line: where.line, column: where.column } : {}),
		path: "cwlVersion",
		message: `unsupported cwlVersion '${String(v)}'`,
		hint: `use one of ${cwlVersions.join(", ")}; draft versions can be upgraded with cwl-upgrader`,
	});
	return "v1.2";
}

/** Chooses the process a URI names: the whole document, a `$graph` entry, or an object with that id. */
function pickProcess(
	doc: unknown,
	uri: string,
	display: (u: string) => string,
	from?: { value: unknown; field: string },
): unknown {
	const fragment = fragmentOf(uri);
	const graph = isRecord(doc) && Array.isArray(doc.$graph) ? (doc.$graph as unknown[]) : undefined;
	const candidates = graph ?? (Array.isArray(doc) ? doc : [doc]);
	const idOf = (x: unknown) => (isRecord(x) && typeof x.id === "string" ? lastSegment(x.id) : undefined);
	if (fragment !== undefined && fragment !== "") {
		const want = lastSegment(fragment);
		const found = candidates.find((x) => idOf(x) === want) ?? findById(doc, want);
		if (found !== undefined) return inheritTop(doc, found);
		const where = from ? sourceOf(from.value, from.field) : undefined;
		throw new SpecError([
			{
				severity: "error",
				file: where?.file ?? display(uri),
				...(where ? { line: where.line, column: where.column } : {}),
				path: from?.field ?? "",
				message: `no process with id '#${fragment}' in ${display(uri)}`,
				hint: `ids there: ${candidates.map(idOf).filter(Boolean).join(", ") || "none"}`,
			},
		]);
	}
	if (graph) {
		const main = graph.find((x) => idOf(x) === "main") ?? (graph.length === 1 ? graph[0] : undefined);
		if (main !== undefined) return inheritTop(doc, main);
		throw new SpecError([
			{
				severity: "error",
				file: display(uri),
				path: "$graph",
				message: "this packed document has no process with id 'main'",
				hint: "name the process to run with a fragment, e.g. file.cwl#main",
			},
		]);
	}
	return doc;
}

function findById(value: unknown, want: string, depth = 0): unknown {
	if (depth > 20 || typeof value !== "object" || value === null) return undefined;
	if (isRecord(value) && typeof value.id === "string" && lastSegment(value.id) === want && "class" in value)
		return value;
	for (const v of Array.isArray(value) ? value : Object.values(value)) {
		const f = findById(v, want, depth + 1);
		if (f !== undefined) return f;
	}
	return undefined;
}

/** A `$graph` entry inherits the document's version and namespaces. */
function inheritTop(doc: unknown, entry: unknown): unknown {
	if (!isRecord(doc) || !isRecord(entry) || doc === entry) return entry;
	const out: Json = { ...entry };
	for (const k of ["cwlVersion", "$namespaces", "$schemas"])
		if (out[k] === undefined && doc[k] !== undefined) out[k] = doc[k];
	const base = importedBase.get(entry);
	if (base) importedBase.set(out, base);
	return carrySource(entry, out);
}

/**
 * Reads the file an `$include` names, refusing it (by its size first, when the reader can tell) once
 * the load's included text would pass MAX_INCLUDE_BYTES; `isWithinBudget` counts the bytes.
 */
async function readInclude(
	uri: string,
	from: Json,
	display: (u: string) => string,
	options: CwlLoadOptions,
	isWithinBudget: (bytes: number) => boolean,
): Promise<string> {
	const where = sourceOf(from, "$include");
	const fail = (message: string, hint: string) =>
		new SpecError([
			{
				severity: "error",
				file: where?.file ?? display(uri),
				...(where ? { line: where.line, column: where.column } : {}),
				path: "$include",
				message,
				hint,
			},
		]);
	const tooLarge = () =>
		fail(
			`$include ${display(uri)} brings the included text over the limit of ${MAX_INCLUDE_BYTES} bytes`,
			"include smaller files, or pass large data as input files",
		);
	let text: string;
	try {
		const size = await options.size?.(uri);
		if (size !== undefined && !isWithinBudget(size)) throw tooLarge();
		text = await options.read(uri);
		if (size === undefined && !isWithinBudget(Buffer.byteLength(text))) throw tooLarge();
	} catch (cause) {
		if (cause instanceof SpecError) throw cause;
		throw fail(
			`cannot read ${String(from.$include)}: ${(cause as Error).message}`,
			"the file named by $include must exist next to the document",
		);
	}
	return text;
}

/** Replaces `{$import: ref}` with the referenced document and `{$include: ref}` with its text. */
async function expandDirectives(
	value: unknown,
	base: string,
	fetchDoc: (uri: string, from?: { value: unknown; field: string }) => Promise<unknown>,
	includeText: (uri: string, from: Json) => Promise<string>,
	depth = 0,
): Promise<unknown> {
	if (depth > 64) return value;
	if (Array.isArray(value)) {
		for (let i = 0; i < value.length; i++)
			value[i] = await expandDirectives(value[i], base, fetchDoc, includeText, depth + 1);
		return value;
	}
	if (!isRecord(value)) return value;
	if (typeof value.$import === "string") {
		const target = resolveUri(base, value.$import);
		const doc = await fetchDoc(target, { value, field: "$import" });
		const picked = fragmentOf(target) ? pickProcess(doc, target, (u) => u) : doc;
		if (typeof picked === "object" && picked !== null) importedBase.set(picked, withoutFragment(target));
		return picked;
	}
	if (typeof value.$include === "string") return includeText(resolveUri(base, value.$include), value);
	const innerBase = importedBase.get(value) ?? base;
	for (const key of Object.keys(value)) {
		if (key === "$namespaces" || key === "$schemas") continue;
		value[key] = await expandDirectives(value[key], innerBase, fetchDoc, includeText, depth + 1);
	}
	return value;
}

/** Records every named type of every SchemaDefRequirement in a document, before processes are normalised. */
function registerSchemaDefs(
	value: unknown,
	base: string,
	ctx: NormaliseContext,
	depth = 0,
	visited = new WeakSet<object>(),
): void {
	// Shared objects (aliases, a document imported many times) once each: walking every path to
	// them could take exponentially long.
	if (depth > 40 || typeof value !== "object" || value === null || visited.has(value)) return;
	visited.add(value);
	const def = isRecord(value)
		? value.class === "SchemaDefRequirement"
			? value
			: isRecord(value.SchemaDefRequirement)
				? value.SchemaDefRequirement
				: undefined
		: undefined;
	if (def && Array.isArray(def.types)) {
		for (const t of (def.types as unknown[]).flat()) {
			if (!isRecord(t) || typeof t.name !== "string") continue;
			const tBase = baseOf(t, base);
			const full = resolveUri(tBase, t.name.startsWith("#") || t.name.includes(":") ? t.name : `#${t.name}`);
			const entry = { raw: t, base: tBase };
			ctx.types.set(full, entry);
			if (!ctx.types.has(lastSegment(full))) ctx.types.set(lastSegment(full), entry);
		}
	}
	const innerBase = baseOf(value, base);
	for (const v of Array.isArray(value) ? value : Object.values(value))
		registerSchemaDefs(v, innerBase, ctx, depth + 1, visited);
}

function isRecord(value: unknown): value is Json {
	return typeof value === "object" && value !== null && !Array.isArray(value);
}
