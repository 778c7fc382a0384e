import type { CwlSecondaryFile, CwlType } from "../../spec/index.js";
import { isFileOrDirectory } from "./file-values.js";
import { type FileSettings, type InputOptions, prepareFile } from "./input-files.js";
import { CwlRunError, whereOf } from "./run-environment.js";
import { branchOf, typeMismatch } from "./value-types.js";

/** Fills defaults, checks every input against its type, and prepares Files and Directories. */
export async function completeInputs(
	given: Record<string, unknown>,
	opts: InputOptions,
): Promise<Record<string, unknown>> {
	const out: Record<string, unknown> = {};
	const raw: Record<string, unknown> = {};
	for (const p of opts.process.inputs) {
		let value = given[p.id];
		let base = opts.base;
		if ((value === undefined || value === null) && p.hasDefault) {
			value = p.default;
			base = opts.process.baseUri;
		}
		raw[p.id] = value ?? null;
		out[p.id] = { value: value ?? null, base };
	}
	for (const p of opts.process.inputs) {
		const { value, base } = out[p.id] as { value: unknown; base: string };
		const where = whereOf(opts.process, opts.env.workspace, p.loc, `input '${p.id}'`);
		const mismatch = typeMismatch(p.type, value, p.id);
		if (mismatch) {
			const missing = value === null || value === undefined;
			throw new CwlRunError(
				missing
					? `${where}: the required input '${p.id}' is missing (hint: give it in the input object, or add a default)`
					: `${where}: ${mismatch}`,
			);
		}
		out[p.id] = await prepareValue(p.type, value, settingsOf(p), { ...opts, base }, raw, where);
	}
	return out;
}

function settingsOf(p: {
	secondaryFiles: CwlSecondaryFile[];
	format?: string | string[];
	loadContents?: boolean;
	loadListing?: string;
	inputBinding?: { loadContents?: boolean };
}): FileSettings {
	return {
		secondaryFiles: p.secondaryFiles,
		format: p.format,
		loadContents: p.loadContents ?? p.inputBinding?.loadContents,
		loadListing: p.loadListing,
	};
}

async function prepareValue(
	type: CwlType,
	value: unknown,
	settings: FileSettings,
	opts: InputOptions,
	inputs: Record<string, unknown>,
	where: string,
): Promise<unknown> {
	if (value === null || value === undefined) return null;
	const t = branchOf(type, value) ?? type;
	if (isFileOrDirectory(value)) return prepareFile(value, settings, opts, inputs, where);
	if (Array.isArray(value)) {
		const items = typeof t === "object" && !Array.isArray(t) && t.type === "array" ? t.items : "Any";
		const out: unknown[] = [];
		for (const v of value) out.push(await prepareValue(items, v, settings, opts, inputs, where));
		return out;
	}
	if (typeof value === "object" && typeof t === "object" && !Array.isArray(t) && t.type === "record") {
		const obj = value as Record<string, unknown>;
		const out: Record<string, unknown> = { ...obj };
		for (const f of t.fields) {
			out[f.name] = await prepareValue(f.type, obj[f.name] ?? null, settingsOf(f), opts, inputs, `${where}.${f.name}`);
		}
		return out;
	}
	if (typeof value === "object" && t === "Any") {
		const out: Record<string, unknown> = {};
		for (const [k, v] of Object.entries(value as Record<string, unknown>))
			out[k] = await prepareValue("Any", v, { secondaryFiles: [] }, opts, inputs, where);
		return out;
	}
	return value;
}
