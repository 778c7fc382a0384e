import type { CwlProcess, CwlStep, CwlStepInput, CwlVersion } from "./cwl-model.js";
import {
	checkFields,
	isRecord,
	mapToList,
	type NormaliseContext,
	type Place,
	pathOf,
	report,
} from "./cwl-normalise-context.js";
import { normaliseRequirements } from "./cwl-requirements.js";
import { shortName } from "./cwl-uri.js";
import { sourceOf } from "./cwl-yaml.js";

const stepFields = [
	"id",
	"label",
	"doc",
	"in",
	"out",
	"run",
	"requirements",
	"hints",
	"scatter",
	"scatterMethod",
	"when",
];
const stepInputFields = [
	"id",
	"source",
	"linkMerge",
	"pickValue",
	"loadContents",
	"loadListing",
	"label",
	"default",
	"valueFrom",
];

/** Normalises the process a step runs (passed in, so the two modules do not import each other). */
export type ProcessNormaliser = (
	raw: unknown,
	base: string,
	version: CwlVersion,
	ctx: NormaliseContext,
) => Promise<CwlProcess>;

/** Normalises one workflow step: its inputs and their sources, outputs, run, scatter and condition. */
export async function normaliseStep(
	raw: unknown,
	place: Place,
	ctx: NormaliseContext,
	version: CwlVersion,
	scope: string | undefined,
	normaliseProcess: ProcessNormaliser,
	placeholder: () => CwlProcess,
): Promise<CwlStep> {
	if (!isRecord(raw) || typeof raw.id !== "string") {
		report(
			ctx,
			place,
			"a step needs an 'id'",
			"write steps as a map ('name: {run: …, in: …, out: …}') or give each an 'id'",
		);
		return { id: "_", in: [], out: [], run: placeholder(), requirements: [], hints: [], scatter: [] };
	}
	const name = shortName(raw.id, scope);
	const stepScope = scope ? `${scope}/${name}` : name;
	checkFields(ctx, raw, stepFields, place, `the step '${name}'`);
	const at = (field: string): Place => ({ value: raw, field, path: pathOf(place.path, field), base: place.base });
	if (raw.when !== undefined && version !== "v1.2")
		report(ctx, at("when"), "'when' needs cwlVersion v1.2", "set cwlVersion: v1.2");
	let run: CwlProcess;
	if (typeof raw.run === "string") {
		const resolved = await ctx.resolveRun(raw.run, place.base, version, { value: raw, field: "run" });
		run = await normaliseProcess(resolved.raw, resolved.base, resolved.version, ctx);
	} else if (isRecord(raw.run)) {
		run = await normaliseProcess(raw.run, place.base, version, ctx);
	} else {
		report(
			ctx,
			at("run"),
			`the step '${name}' has no 'run'`,
			"name the tool or workflow it runs, e.g. 'run: tool.cwl'",
		);
		run = placeholder();
	}
	const step: CwlStep = {
		id: name,
		in: mapToList(raw.in, "id", "source").map(({ item, index }) =>
			normaliseStepInput(
				item,
				{ value: raw.in, field: index, path: pathOf(pathOf(place.path, "in"), index), base: place.base },
				ctx,
				version,
				scope,
				stepScope,
			),
		),
		out: (Array.isArray(raw.out) ? raw.out : []).map((o) =>
			shortName(isRecord(o) ? String(o.id) : String(o), stepScope),
		),
		run,
		requirements: normaliseRequirements(raw.requirements, at("requirements"), ctx, version, false),
		hints: normaliseRequirements(raw.hints, at("hints"), ctx, version, true),
		scatter:
			raw.scatter === undefined
				? []
				: (Array.isArray(raw.scatter) ? raw.scatter : [raw.scatter]).map((s) => shortName(String(s), stepScope)),
	};
	if (raw.out === undefined)
		report(ctx, place, `the step '${name}' has no 'out'`, "list the outputs it uses, or write 'out: []'");
	if (typeof raw.scatterMethod === "string") step.scatterMethod = raw.scatterMethod;
	if (typeof raw.when === "string") step.when = raw.when;
	const loc = sourceOf(raw);
	if (loc) step.loc = loc;
	return step;
}

function normaliseStepInput(
	raw: unknown,
	place: Place,
	ctx: NormaliseContext,
	version: CwlVersion,
	scope: string | undefined,
	stepScope: string,
): CwlStepInput {
	if (!isRecord(raw) || typeof raw.id !== "string") {
		report(ctx, place, "a step input needs an 'id'", "write 'in' as a map ('name: source')");
		return { id: "_", source: [], hasDefault: false };
	}
	checkFields(ctx, raw, stepInputFields, place, `the step input '${shortName(raw.id, stepScope)}'`);
	const input: CwlStepInput = {
		id: shortName(raw.id, stepScope),
		source:
			raw.source === undefined || raw.source === null
				? []
				: (Array.isArray(raw.source) ? raw.source : [raw.source]).map((s) => shortName(String(s), scope)),
		hasDefault: raw.default !== undefined && raw.default !== null,
	};
	if (input.hasDefault) input.default = raw.default;
	if (typeof raw.linkMerge === "string") input.linkMerge = raw.linkMerge;
	if (typeof raw.pickValue === "string") input.pickValue = raw.pickValue;
	if (raw.pickValue !== undefined && version !== "v1.2")
		report(
			ctx,
			{ ...place, value: raw, field: "pickValue" },
			"'pickValue' needs cwlVersion v1.2",
			"set cwlVersion: v1.2",
		);
	if (typeof raw.valueFrom === "string") input.valueFrom = raw.valueFrom;
	if (typeof raw.loadContents === "boolean") input.loadContents = raw.loadContents;
	if (typeof raw.loadListing === "string") input.loadListing = raw.loadListing;
	const loc = sourceOf(raw);
	if (loc) input.loc = loc;
	return input;
}
