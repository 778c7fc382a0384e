import { posix } from "node:path";
import { resolveUri } from "../../spec/index.js";
import { type ExpressionScope, evaluate, pythonJson, stringify } from "./expression-evaluator.js";
import {
	type FileValue,
	isDirectory,
	isFile,
	isFileOrDirectory,
	mapFileValues,
	pathOfValue,
	placeAt,
	withNameFields,
} from "./file-values.js";
import type { StageAction } from "./job-script.js";
import { CwlRunError, UnsupportedFeatureError } from "./run-environment.js";

/** Where one invocation stages things: a folder for inputs that must be renamed or written, and the output directory. */
export interface StagingPlan {
	stageDir: string;
	outdir: string;
	actions: StageAction[];
	counter: number;
}

/**
 * Gives every File and Directory of the inputs a path the tool can use. Files that already sit at a
 * path with their basename (and their secondary files beside them) are used where they are; literals,
 * renamed files and misplaced secondary files are linked or written into the stage folder.
 */
export async function stageInputs(
	inputs: Record<string, unknown>,
	plan: StagingPlan,
): Promise<Record<string, unknown>> {
	const out: Record<string, unknown> = {};
	for (const [k, v] of Object.entries(inputs)) out[k] = await stageValue(v, plan);
	return out;
}

async function stageValue(value: unknown, plan: StagingPlan): Promise<unknown> {
	if (Array.isArray(value)) {
		const out: unknown[] = [];
		for (const v of value) out.push(await stageValue(v, plan));
		return out;
	}
	if (typeof value !== "object" || value === null) return value;
	if (!isFileOrDirectory(value)) {
		const out: Record<string, unknown> = {};
		for (const [k, v] of Object.entries(value)) out[k] = await stageValue(v, plan);
		return out;
	}
	if (!needsStaging(value)) return value;
	const dir = `${plan.stageDir}/${++plan.counter}`;
	return stageInto(value, dir, plan, false);
}

function needsStaging(v: FileValue): boolean {
	const path = pathOfValue(v);
	if (path === undefined) return true;
	if (
		isDirectory(v) &&
		Array.isArray(v.listing) &&
		v.listing.some((e) => isFileOrDirectory(e) && pathOfValue(e) === undefined)
	)
		return true;
	if (typeof v.basename === "string" && v.basename !== posix.basename(path)) return true;
	const dir = posix.dirname(path);
	for (const s of Array.isArray(v.secondaryFiles) ? v.secondaryFiles : []) {
		if (!isFileOrDirectory(s)) continue;
		const sp = pathOfValue(s);
		if (
			sp === undefined ||
			posix.dirname(sp) !== dir ||
			(typeof s.basename === "string" && s.basename !== posix.basename(sp))
		)
			return true;
	}
	return false;
}

/** Links, copies or writes a File/Directory (and its secondary files) into a folder; returns it with its new path. */
export function stageInto(v: FileValue, dir: string, plan: StagingPlan, isWritable: boolean, name?: string): FileValue {
	const basename = name ?? String(v.basename ?? "");
	if (!basename || (basename.includes("/") && name === undefined))
		throw new CwlRunError(`cannot stage ${JSON.stringify(v.location ?? v.basename)}: it has no usable basename`);
	const target = `${dir}/${basename}`;
	const source = pathOfValue(v);
	if (isFile(v)) {
		if (source !== undefined) plan.actions.push({ kind: isWritable ? "copy" : "link", from: source, to: target });
		else plan.actions.push({ kind: "write", to: target, content: String(v.contents ?? "") });
	} else if (source !== undefined && !Array.isArray(v.listing)) {
		plan.actions.push({ kind: isWritable ? "copy" : "link", from: source, to: target });
	} else if (source !== undefined && !hasLiteral(v)) {
		plan.actions.push({ kind: isWritable ? "copy" : "link", from: source, to: target });
	} else {
		plan.actions.push({ kind: "mkdir", to: target });
	}
	let staged = placeAt(v, target);
	if (isDirectory(v) && Array.isArray(v.listing) && (source === undefined || hasLiteral(v))) {
		staged.listing = v.listing.filter(isFileOrDirectory).map((e) => stageInto(e, target, plan, isWritable));
	} else if (isDirectory(v) && Array.isArray(v.listing) && source !== undefined) {
		staged.listing = v.listing.map((e) => (isFileOrDirectory(e) ? relocate(e, source, target) : e));
	}
	if (Array.isArray(v.secondaryFiles)) {
		staged.secondaryFiles = v.secondaryFiles.filter(isFileOrDirectory).map((s) => stageInto(s, dir, plan, isWritable));
	}
	staged = withNameFields(staged);
	return staged;
}

function hasLiteral(v: FileValue): boolean {
	return (
		Array.isArray(v.listing) &&
		v.listing.some((e) => isFileOrDirectory(e) && (pathOfValue(e) === undefined || hasLiteral(e)))
	);
}

/** The same entry seen through a link: its path under `to` instead of `from`. */
function relocate(e: FileValue, from: string, to: string): FileValue {
	const p = pathOfValue(e);
	if (p === undefined || !p.startsWith(`${from}/`)) return e;
	const moved = placeAt(e, to + p.slice(from.length));
	if (Array.isArray(e.listing))
		moved.listing = e.listing.map((x) => (isFileOrDirectory(x) ? relocate(x, from, to) : x));
	return moved;
}

/** The options of InitialWorkDirRequirement staging. */
export interface WorkDirOptions {
	listing: unknown;
	scope: Omit<ExpressionScope, "self" | "where">;
	where: (field: string) => string;
	isInplace: boolean;
	/** The v1.0 and v1.1 rule: a non-string entry is kept as text only in v1.2. */
	isV12: boolean;
	/** The tool document's URI: Files written literally in the listing resolve against it. */
	base: string;
	/** DockerRequirement is a requirement (not a hint): only then may an entryname be absolute. */
	needsContainer: boolean;
}

/** Stages InitialWorkDirRequirement's listing into the output directory; returns what moved where (old path → new). */
export function stageWorkDir(opts: WorkDirOptions, plan: StagingPlan): Map<string, FileValue> {
	const moved = new Map<string, FileValue>();
	const items = evaluateListing(opts.listing, opts);
	for (const item of items) {
		if (item === null || item === undefined) continue;
		if (isFileOrDirectory(item)) {
			placeEntry(resolveLiteral(item, opts.base), undefined, false, opts, plan, moved);
			continue;
		}
		if (typeof item === "object" && !Array.isArray(item) && "entry" in item) {
			const d = item as { entry: unknown; entryname?: unknown; writable?: unknown };
			const entryname =
				d.entryname === undefined || d.entryname === null
					? undefined
					: String(
							evaluate(d.entryname, {
								...opts.scope,
								self: null,
								where: opts.where("InitialWorkDirRequirement.listing.entryname"),
							}),
						);
			const isWritable = d.writable === true;
			const raw = d.entry;
			const value = evaluate(raw, {
				...opts.scope,
				self: null,
				keepsWhitespace: true,
				where: opts.where("InitialWorkDirRequirement.listing.entry"),
			});
			const entries = Array.isArray(value) && value.every(isFileOrDirectory) ? value : [value];
			for (const v of entries) {
				if (v === null || v === undefined) continue;
				if (isFileOrDirectory(v)) {
					placeEntry(v, entryname, isWritable, opts, plan, moved);
					continue;
				}
				if (entryname === undefined)
					throw new CwlRunError(
						`${opts.where("InitialWorkDirRequirement.listing")}: an entry that is text needs an 'entryname'`,
					);
				const isExpr = typeof raw === "string" && /^\s*\$[({][\s\S]*[)}]\s*$/.test(raw);
				const content = typeof v === "string" ? v : isExpr && opts.isV12 ? pythonJson(v) : stringify(v);
				plan.actions.push({ kind: "write", to: targetPath(entryname, plan, opts), content });
			}
			continue;
		}
		throw new CwlRunError(
			`${opts.where("InitialWorkDirRequirement.listing")}: an entry must be a File, a Directory or {entry, entryname}, got ${JSON.stringify(item).slice(0, 80)}`,
		);
	}
	return moved;
}

/** A File/Directory written in the document itself: its location is relative to the document. */
function resolveLiteral(v: FileValue, base: string): FileValue {
	if (typeof v.location === "string" && !v.location.startsWith("file:") && !v.location.startsWith("_:")) {
		return withNameFields({ ...v, location: resolveUri(base, v.location) });
	}
	return v;
}

function evaluateListing(listing: unknown, opts: WorkDirOptions): unknown[] {
	const where = opts.where("InitialWorkDirRequirement.listing");
	if (typeof listing === "string") {
		const v = evaluate(listing, { ...opts.scope, self: null, where });
		return (Array.isArray(v) ? v : [v]).flat();
	}
	if (!Array.isArray(listing)) return [];
	const out: unknown[] = [];
	for (const item of listing) {
		if (typeof item === "string") {
			const v = evaluate(item, { ...opts.scope, self: null, where });
			out.push(...(Array.isArray(v) ? v.flat() : [v]));
		} else if (Array.isArray(item)) out.push(...item);
		else out.push(item);
	}
	return out;
}

function targetPath(entryname: string, plan: StagingPlan, opts: WorkDirOptions): string {
	if (entryname.startsWith("/")) {
		if (entryname === plan.outdir || entryname.startsWith(`${plan.outdir}/`)) return entryname;
		if (!opts.needsContainer) {
			throw new CwlRunError(
				`${opts.where("InitialWorkDirRequirement.listing.entryname")}: the absolute entryname ${entryname} is only allowed with DockerRequirement under requirements`,
			);
		}
		throw new UnsupportedFeatureError(
			`${opts.where("InitialWorkDirRequirement.listing.entryname")}: absolute entryname ${entryname} outside the output directory needs a container runtime`,
		);
	}
	const clean = posix.normalize(entryname);
	if (clean.startsWith(".."))
		throw new CwlRunError(
			`${opts.where("InitialWorkDirRequirement.listing.entryname")}: entryname ${entryname} leaves the output directory`,
		);
	return `${plan.outdir}/${clean}`;
}

function placeEntry(
	v: FileValue,
	entryname: string | undefined,
	isWritable: boolean,
	opts: WorkDirOptions,
	plan: StagingPlan,
	moved: Map<string, FileValue>,
): void {
	const name = entryname ?? String(v.basename ?? "");
	const target = targetPath(name, plan, opts);
	const dir = posix.dirname(target);
	const writable = isWritable && !opts.isInplace;
	const staged = stageInto(v, dir, plan, writable, posix.basename(target));
	const source = pathOfValue(v);
	if (source !== undefined) moved.set(source, staged);
}

/** Rewrites the inputs so Files staged into the working directory are seen at their new paths. */
export async function relocateInputs(
	inputs: Record<string, unknown>,
	moved: Map<string, FileValue>,
): Promise<Record<string, unknown>> {
	if (moved.size === 0) return inputs;
	return (await mapFileValues(inputs, async (f) => {
		const p = pathOfValue(f);
		const to = p === undefined ? undefined : moved.get(p);
		return to
			? {
					...f,
					...placeAt(f, pathOfValue(to) as string),
					...(Array.isArray(to.listing) ? { listing: to.listing } : {}),
				}
			: f;
	})) as Record<string, unknown>;
}
