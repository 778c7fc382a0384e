import { createHash } from "node:crypto";
import { classFields, commonFields, inputFields, outputFields, processClasses } from "./cwl-fields.js";
import type { CwlCommandLineTool, CwlParameter, CwlProcess, CwlProcessBase, CwlStep, CwlVersion } from "./cwl-model.js";
import {
	checkFields,
	isRecord,
	mapToList,
	type NormaliseContext,
	type Place,
	pathOf,
	report,
} from "./cwl-normalise-context.js";
import { normaliseStep, type ProcessNormaliser } from "./cwl-normalise-step.js";
import {
	expandFormat,
	normaliseBinding,
	normaliseOutputBinding,
	normaliseSecondaryFiles,
	normaliseType,
} from "./cwl-normalise-types.js";
import { normaliseRequirements } from "./cwl-requirements.js";
import { fragmentOf, resolveUri, shortName } from "./cwl-uri.js";
import { type SourceRef, sourceOf } from "./cwl-yaml.js";

let anonymous = 0;

/** How deeply subworkflows may nest (a workflow running a workflow running …). */
export const MAX_WORKFLOW_DEPTH = 50;

/** Per load: the workflows being normalised (outermost first), and the processes done, by raw object. */
interface LoadState {
	active: Array<{ raw: object; at: string | undefined }>;
	done: WeakMap<object, Map<string, CwlProcess>>;
}

const loadStates = new WeakMap<NormaliseContext, LoadState>();

function loadStateOf(ctx: NormaliseContext): LoadState {
	let state = loadStates.get(ctx);
	if (!state) {
		state = { active: [], done: new WeakMap() };
		loadStates.set(ctx, state);
	}
	return state;
}

/**
 * Where a raw process was written: copies made while loading (map forms, `$graph` entries) keep the
 * position of their original, so this identifies a process even when its object is a copy.
 */
function positionOf(raw: object): string | undefined {
	const at = sourceOf(raw);
	return at ? `${at.file}:${at.line}:${at.column}` : undefined;
}

/** Normalises one process object (any class) into Orrery's model; problems go to the context. */
export async function normaliseProcess(
	raw: unknown,
	base: string,
	inheritedVersion: CwlVersion,
	ctx: NormaliseContext,
): Promise<CwlProcess> {
	const place: Place = { value: raw, path: "", base };
	if (!isRecord(raw)) {
		report(
			ctx,
			place,
			"a CWL document must be an object with a 'class'",
			"start the file with 'cwlVersion: v1.2' and 'class: CommandLineTool' (or Workflow)",
		);
		return emptyTool(base, inheritedVersion, ctx);
	}
	const version = (
		typeof raw.cwlVersion === "string" ? raw.cwlVersion.replace(/^.*#/, "") : inheritedVersion
	) as CwlVersion;
	const cls = raw.class;
	if (typeof cls !== "string" || !(processClasses as readonly string[]).includes(cls)) {
		report(
			ctx,
			{ ...place, field: "class" },
			cls === undefined ? "the document has no 'class'" : `unknown process class '${String(cls)}'`,
			`use one of ${processClasses.join(", ")}`,
		);
		return emptyTool(base, version, ctx);
	}
	const klass = cls as (typeof processClasses)[number];
	checkFields(ctx, raw, [...commonFields, ...classFields[klass]], place, `a ${klass}`);
	if (klass === "Operation" && version !== "v1.2")
		report(ctx, { ...place, field: "class" }, "Operation needs cwlVersion v1.2", "set cwlVersion: v1.2");
	const id =
		typeof raw.id === "string"
			? resolveUri(base, raw.id.includes("#") || raw.id.includes(":") ? raw.id : `#${raw.id}`)
			: `${base}#_:anonymous${++anonymous}`;
	const cached = ctx.processes.get(id);
	if (cached) return cached;
	// A process without an id gets a fresh one each time; remember it by its object instead, so a
	// document run by many steps (of many subworkflows) is normalised once, not once per path to it.
	const state = loadStateOf(ctx);
	const doneKey = `${base}\n${version}`;
	const done = state.done.get(raw)?.get(doneKey);
	if (done) return done;
	const remember = <T extends CwlProcess>(p: T): T => {
		ctx.processes.set(id, p);
		const byKey = state.done.get(raw) ?? new Map<string, CwlProcess>();
		byKey.set(doneKey, p);
		state.done.set(raw, byKey);
		return p;
	};
	const scope = typeof raw.id === "string" ? fragmentOf(id) : undefined;
	const at = (field: string): Place => ({ value: raw, field, path: field, base });
	const common: CwlProcessBase = {
		id,
		cwlVersion: version,
		inputs: mapToList(raw.inputs, "id", "type").map(({ item, index }) =>
			normaliseParameter(
				item,
				{ value: raw.inputs, field: index, path: pathOf("inputs", index), base },
				ctx,
				version,
				scope,
				"input",
			),
		),
		outputs: mapToList(raw.outputs, "id", "type").map(({ item, index }) =>
			normaliseParameter(
				item,
				{ value: raw.outputs, field: index, path: pathOf("outputs", index), base },
				ctx,
				version,
				scope,
				"output",
			),
		),
		requirements: normaliseRequirements(raw.requirements, at("requirements"), ctx, version, false),
		hints: normaliseRequirements(raw.hints, at("hints"), ctx, version, true),
		baseUri: base,
		namespaces: ctx.namespaces,
		schemas: ctx.schemas,
	};
	if (raw.inputs === undefined) report(ctx, place, `a ${klass} needs 'inputs'`, "add 'inputs: []' if it takes none");
	if (raw.outputs === undefined)
		report(ctx, place, `a ${klass} needs 'outputs'`, "add 'outputs: []' if it produces none");
	if (typeof raw.label === "string") common.label = raw.label;
	const loc = sourceOf(raw);
	if (loc) common.loc = loc;
	const fieldLocs = fieldLocationsOf(raw);
	if (Object.keys(fieldLocs).length > 0) common.fieldLocs = fieldLocs;
	switch (klass) {
		case "CommandLineTool": {
			return remember(normaliseTool(raw, common, ctx, place));
		}
		case "ExpressionTool": {
			if (typeof raw.expression !== "string")
				report(
					ctx,
					{ ...place, field: "expression" },
					"an ExpressionTool needs an 'expression'",
					"write e.g. 'expression: \"${ return {out: 1}; }\"'",
				);
			return remember({ ...common, class: "ExpressionTool" as const, expression: String(raw.expression ?? "") });
		}
		case "Operation": {
			return remember({ ...common, class: "Operation" as const });
		}
		case "Workflow": {
			if (ctx.loading.has(id)) {
				report(ctx, place, "this workflow runs itself", "a workflow cannot contain itself as a step");
				return { ...common, class: "Workflow", steps: [] };
			}
			ctx.loading.add(id);
			state.active.push({ raw, at: positionOf(raw) });
			const steps: CwlStep[] = [];
			if (raw.steps === undefined) report(ctx, place, "a Workflow needs 'steps'", "add the steps under 'steps:'");
			try {
				for (const { item, index } of mapToList(raw.steps, "id", undefined)) {
					const stepPlace: Place = { value: raw.steps, field: index, path: pathOf("steps", index), base };
					steps.push(
						await normaliseStep(
							item,
							stepPlace,
							ctx,
							version,
							scope,
							guardedRun(item, stepPlace, scope, state, () => emptyTool(base, version, ctx)),
							() => emptyTool(base, version, ctx),
						),
					);
				}
			} finally {
				state.active.pop();
				ctx.loading.delete(id);
			}
			return remember({ ...common, class: "Workflow" as const, steps });
		}
	}
}

/**
 * The normaliser for what one step runs: it refuses a process that is already being normalised
 * further out (a workflow that runs itself, directly or through its subworkflows) and nesting deeper
 * than MAX_WORKFLOW_DEPTH, where following either would never end.
 */
function guardedRun(
	step: unknown,
	stepPlace: Place,
	scope: string | undefined,
	state: LoadState,
	placeholder: () => CwlProcess,
): ProcessNormaliser {
	return async (raw, base, version, ctx) => {
		const name =
			isRecord(step) && typeof step.id === "string" ? shortName(step.id, scope) : String(stepPlace.field ?? "?");
		const at: Place = isRecord(step)
			? { value: step, field: "run", path: pathOf(stepPlace.path, "run"), base: stepPlace.base }
			: stepPlace;
		if (isRecord(raw)) {
			const position = positionOf(raw);
			const depth = state.active.findIndex((a) => a.raw === raw || (position !== undefined && a.at === position));
			if (depth >= 0) {
				report(
					ctx,
					at,
					depth === state.active.length - 1
						? `step '${name}' runs the workflow that contains it`
						: `step '${name}' runs a workflow that contains it (${state.active.length - depth} levels up)`,
					"a workflow cannot run itself, directly or through its subworkflows",
				);
				return placeholder();
			}
		}
		if (state.active.length >= MAX_WORKFLOW_DEPTH) {
			report(
				ctx,
				at,
				`step '${name}' nests subworkflows more than ${MAX_WORKFLOW_DEPTH} deep`,
				"flatten the workflow: subworkflows may nest at most this deep",
			);
			return placeholder();
		}
		return normaliseProcess(raw, base, version, ctx);
	};
}

function normaliseTool(
	raw: Record<string, unknown>,
	common: CwlProcessBase,
	ctx: NormaliseContext,
	place: Place,
): CwlCommandLineTool {
	const tool: CwlCommandLineTool = {
		...common,
		class: "CommandLineTool",
		baseCommand:
			raw.baseCommand === undefined
				? []
				: (Array.isArray(raw.baseCommand) ? raw.baseCommand : [raw.baseCommand]).map(String),
		arguments: [],
		successCodes: codes(raw.successCodes, "successCodes", ctx, place),
		temporaryFailCodes: codes(raw.temporaryFailCodes, "temporaryFailCodes", ctx, place),
		permanentFailCodes: codes(raw.permanentFailCodes, "permanentFailCodes", ctx, place),
	};
	if (raw.arguments !== undefined) {
		const args = Array.isArray(raw.arguments) ? raw.arguments : [raw.arguments];
		tool.arguments = args.map((a, i) =>
			typeof a === "string" || typeof a === "number"
				? String(a)
				: normaliseBinding(
						a,
						{ value: args, field: i, path: pathOf("arguments", i), base: place.base },
						ctx,
						common.cwlVersion,
					),
		);
	}
	for (const f of ["stdin", "stdout", "stderr"] as const) {
		if (typeof raw[f] === "string") tool[f] = raw[f] as string;
		else if (raw[f] !== undefined)
			report(ctx, { ...place, field: f }, `'${f}' must be a file name or an expression`, `write e.g. '${f}: out.txt'`);
	}
	const digest = createHash("sha1").update(common.id).digest("hex").slice(0, 12);
	for (const out of tool.outputs) {
		if (out.type === "stdout" || out.type === "stderr") {
			const stream = out.type;
			tool[stream] ??= `${stream}-${digest}`;
			out.type = "File";
			out.outputBinding = { glob: tool[stream] as string };
		}
	}
	for (const inp of tool.inputs) {
		if (inp.type === "stdin") {
			inp.type = "File";
			tool.stdin ??= `$(inputs.${inp.id}.path)`;
		}
	}
	return tool;
}

function codes(raw: unknown, field: string, ctx: NormaliseContext, place: Place): number[] {
	if (raw === undefined) return [];
	if (Array.isArray(raw) && raw.every((c) => Number.isInteger(c))) return raw as number[];
	report(ctx, { ...place, field }, `'${field}' must be a list of whole numbers`, `write e.g. '${field}: [0, 1]'`);
	return [];
}

function normaliseParameter(
	raw: unknown,
	place: Place,
	ctx: NormaliseContext,
	version: CwlVersion,
	scope: string | undefined,
	kind: "input" | "output",
): CwlParameter {
	if (!isRecord(raw) || typeof raw.id !== "string") {
		report(ctx, place, `an ${kind} needs an 'id'`, `write ${kind}s as a map ('name: type') or give each an 'id'`);
		return { id: "_", type: "Any", hasDefault: false, secondaryFiles: [], outputSource: [] };
	}
	const name = shortName(raw.id, scope);
	checkFields(ctx, raw, kind === "input" ? inputFields : outputFields, place, `the ${kind} '${name}'`);
	const at = (field: string): Place => ({ value: raw, field, path: pathOf(place.path, field), base: place.base });
	if (raw.type === undefined && !(kind === "input" && "default" in raw)) {
		report(ctx, place, `the ${kind} '${name}' has no 'type'`, "add e.g. 'type: string'");
	}
	const p: CwlParameter = {
		id: name,
		type: normaliseType(raw.type ?? "Any", at("type"), ctx, version),
		hasDefault: raw.default !== undefined && raw.default !== null,
		secondaryFiles: normaliseSecondaryFiles(raw.secondaryFiles, at("secondaryFiles"), ctx, version),
		outputSource: [],
	};
	if (p.hasDefault) p.default = raw.default;
	if (raw.inputBinding !== undefined)
		p.inputBinding = normaliseBinding(raw.inputBinding, at("inputBinding"), ctx, version);
	if (raw.outputBinding !== undefined)
		p.outputBinding = normaliseOutputBinding(raw.outputBinding, at("outputBinding"), ctx);
	if (raw.format !== undefined && raw.format !== null) p.format = expandFormat(raw.format, ctx.namespaces);
	if (typeof raw.loadContents === "boolean") p.loadContents = raw.loadContents;
	if (typeof raw.loadListing === "string") p.loadListing = raw.loadListing;
	if (raw.outputSource !== undefined) {
		p.outputSource = (Array.isArray(raw.outputSource) ? raw.outputSource : [raw.outputSource]).map((s) =>
			shortName(String(s), scope),
		);
	}
	if (typeof raw.linkMerge === "string") p.linkMerge = raw.linkMerge;
	if (typeof raw.pickValue === "string") p.pickValue = raw.pickValue;
	if (raw.pickValue !== undefined && version !== "v1.2")
		report(ctx, at("pickValue"), "'pickValue' needs cwlVersion v1.2", "set cwlVersion: v1.2");
	if (raw.loadListing !== undefined && version === "v1.0")
		report(ctx, at("loadListing"), "'loadListing' needs cwlVersion v1.1 or later", "set cwlVersion: v1.2");
	const loc = sourceOf(raw);
	if (loc) p.loc = loc;
	return p;
}

/** The positions of a process's fields (their keys), and of its requirements and hints by class. */
function fieldLocationsOf(raw: Record<string, unknown>): Record<string, SourceRef> {
	const locs: Record<string, SourceRef> = {};
	for (const key of Object.keys(raw)) {
		const at = sourceOf(raw, key, true);
		if (at) locs[key] = at;
	}
	// Requirements last: where a class is both, the requirement is the one that applies.
	for (const list of ["hints", "requirements"] as const) {
		for (const { item } of mapToList(raw[list], "class", undefined)) {
			if (!isRecord(item) || typeof item.class !== "string") continue;
			const at = sourceOf(item) ?? locs[list];
			if (at) locs[item.class.replace(/^https:\/\/w3id\.org\/cwl\/cwl#/, "").replace(/^cwl:/, "")] = at;
		}
	}
	return locs;
}

function emptyTool(base: string, version: CwlVersion, ctx: NormaliseContext): CwlCommandLineTool {
	return {
		id: `${base}#_:invalid`,
		class: "CommandLineTool",
		cwlVersion: version,
		inputs: [],
		outputs: [],
		requirements: [],
		hints: [],
		baseUri: base,
		namespaces: ctx.namespaces,
		schemas: ctx.schemas,
		baseCommand: [],
		arguments: [],
		successCodes: [],
		temporaryFailCodes: [],
		permanentFailCodes: [],
	};
}
