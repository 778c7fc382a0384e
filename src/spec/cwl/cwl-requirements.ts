import { type CwlRequirement, type CwlVersion, knownRequirements } from "./cwl-model.js";
import {
	checkFields,
	isRecord,
	mapToList,
	type NormaliseContext,
	type Place,
	pathOf,
	report,
} from "./cwl-normalise-context.js";

const fieldsOf: Record<string, string[]> = {
	InlineJavascriptRequirement: ["expressionLib"],
	SchemaDefRequirement: ["types"],
	LoadListingRequirement: ["loadListing"],
	DockerRequirement: [
		"dockerPull",
		"dockerLoad",
		"dockerFile",
		"dockerImport",
		"dockerImageId",
		"dockerOutputDirectory",
	],
	SoftwareRequirement: ["packages"],
	InitialWorkDirRequirement: ["listing"],
	EnvVarRequirement: ["envDef"],
	ShellCommandRequirement: [],
	ResourceRequirement: ["coresMin", "coresMax", "ramMin", "ramMax", "tmpdirMin", "tmpdirMax", "outdirMin", "outdirMax"],
	WorkReuse: ["enableReuse"],
	NetworkAccess: ["networkAccess"],
	InplaceUpdateRequirement: ["inplaceUpdate"],
	ToolTimeLimit: ["timelimit"],
	SubworkflowFeatureRequirement: [],
	ScatterFeatureRequirement: [],
	MultipleInputFeatureRequirement: [],
	StepInputExpressionRequirement: [],
};

/** Classes cwltool defines as extensions; accepted as hints and ignored. */
const extensionPrefixes = ["http://commonwl.org/cwltool#", "cwltool:"];

/**
 * Normalises `requirements` or `hints` (list or map form) to a list of `{class, …}`. An unknown
 * class is an error under `requirements` and ignored under `hints`, as the standard says.
 */
export function normaliseRequirements(
	raw: unknown,
	place: Place,
	ctx: NormaliseContext,
	version: CwlVersion,
	isHints: boolean,
): CwlRequirement[] {
	if (raw === undefined || raw === null) return [];
	const out: CwlRequirement[] = [];
	for (const { item, index } of mapToList(raw, "class", undefined)) {
		const at: Place = {
			value: Array.isArray(raw) ? raw : item,
			field: Array.isArray(raw) ? index : "class",
			path: pathOf(place.path, index),
			base: place.base,
		};
		if (!isRecord(item) || typeof item.class !== "string") {
			report(
				ctx,
				at,
				`each entry of ${isHints ? "hints" : "requirements"} needs a 'class'`,
				"write e.g. '- class: DockerRequirement'",
			);
			continue;
		}
		const cls = item.class.replace(/^https:\/\/w3id\.org\/cwl\/cwl#/, "").replace(/^cwl:/, "");
		if (!(knownRequirements as readonly string[]).includes(cls)) {
			if (isHints) continue;
			const isExtension = extensionPrefixes.some((p) => cls.startsWith(p)) || cls.includes(":");
			report(
				ctx,
				{ ...at, value: item, field: "class" },
				`unsupported requirement '${cls}'`,
				isExtension
					? "this extension is not supported by Orrery; move it under 'hints' if the tool can run without it"
					: `known requirements: ${knownRequirements.join(", ")}; move it under 'hints' if it is optional`,
			);
			continue;
		}
		const req: CwlRequirement = { ...item, class: cls };
		if (!isHints) checkFields(ctx, item, ["class", ...(fieldsOf[cls] ?? [])], { ...at, value: item }, cls);
		checkValues(req, { ...at, value: item }, ctx, version, isHints);
		if (cls === "EnvVarRequirement") req.envDef = mapToList(item.envDef, "envName", "envValue").map(({ item: e }) => e);
		if (cls === "SchemaDefRequirement" && Array.isArray(item.types)) req.types = (item.types as unknown[]).flat();
		if (cls === "InlineJavascriptRequirement" && item.expressionLib !== undefined) {
			req.expressionLib = (Array.isArray(item.expressionLib) ? item.expressionLib : [item.expressionLib]).map(String);
		}
		out.push(req);
	}
	return out;
}

function checkValues(
	req: CwlRequirement,
	place: Place,
	ctx: NormaliseContext,
	version: CwlVersion,
	isHints: boolean,
): void {
	const severity = isHints ? "warning" : "error";
	if (req.class === "ResourceRequirement") {
		for (const f of fieldsOf.ResourceRequirement ?? []) {
			const v = req[f];
			if (v === undefined || v === null || typeof v === "string") continue;
			const ok = typeof v === "number" && v >= 0 && (version === "v1.2" || Number.isInteger(v));
			if (!ok) {
				report(
					ctx,
					{ ...place, field: f },
					`ResourceRequirement.${f} must be ${version === "v1.2" ? "a non-negative number" : "a whole number"} or an expression, not ${JSON.stringify(v)}`,
					version === "v1.2"
						? "write e.g. 'coresMin: 2'"
						: `fractional values need cwlVersion v1.2 (this document is ${version})`,
					severity,
				);
			}
		}
	}
	if (req.class === "ToolTimeLimit") {
		const v = req.timelimit;
		if (!(typeof v === "string" || (typeof v === "number" && Number.isInteger(v) && v >= 0))) {
			report(
				ctx,
				{ ...place, field: "timelimit" },
				`ToolTimeLimit.timelimit must be a whole number of seconds (0 for none) or an expression, not ${JSON.stringify(v)}`,
				"write e.g. 'timelimit: 60'",
				severity,
			);
		}
	}
	if (req.class === "LoadListingRequirement" && req.loadListing !== undefined) {
		if (!["no_listing", "shallow_listing", "deep_listing"].includes(String(req.loadListing))) {
			report(
				ctx,
				{ ...place, field: "loadListing" },
				`unknown loadListing '${String(req.loadListing)}'`,
				"use no_listing, shallow_listing or deep_listing",
				severity,
			);
		}
	}
	if (req.class === "DockerRequirement" && !isHints) {
		const has = ["dockerPull", "dockerLoad", "dockerFile", "dockerImport", "dockerImageId"].some(
			(f) => req[f] !== undefined,
		);
		if (!has) report(ctx, place, "DockerRequirement names no image", "add 'dockerPull: image:tag'");
	}
}
