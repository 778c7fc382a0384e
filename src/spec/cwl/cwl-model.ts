import type { SourceRef } from "./cwl-yaml.js";

/** The CWL versions Orrery reads; older documents are upgraded to v1.2 semantics on load. */
export const cwlVersions = ["v1.0", "v1.1", "v1.2"] as const;
/** A CWL version Orrery reads. */
export type CwlVersion = (typeof cwlVersions)[number];

/** A CWL type after normalisation: a name, an array, a record, an enum, or a union (a list). */
export type CwlType = string | CwlArrayType | CwlRecordType | CwlEnumType | CwlType[];

/** `{type: array, items}`. */
export interface CwlArrayType {
	type: "array";
	items: CwlType;
	inputBinding?: CwlBinding;
}

/** `{type: record, fields}`. */
export interface CwlRecordType {
	type: "record";
	name?: string;
	fields: CwlRecordField[];
	inputBinding?: CwlBinding;
}

/** One field of a record type. */
export interface CwlRecordField {
	name: string;
	type: CwlType;
	inputBinding?: CwlBinding;
	outputBinding?: CwlOutputBinding;
	secondaryFiles: CwlSecondaryFile[];
	format?: string | string[];
	loadContents?: boolean;
	loadListing?: string;
}

/** `{type: enum, symbols}`. */
export interface CwlEnumType {
	type: "enum";
	name?: string;
	symbols: string[];
	inputBinding?: CwlBinding;
}

/** How a value becomes command-line words. */
export interface CwlBinding {
	position?: number | string;
	prefix?: string;
	separate?: boolean;
	itemSeparator?: string;
	valueFrom?: string;
	shellQuote?: boolean;
	loadContents?: boolean;
}

/** How an output is found after a tool ran. */
export interface CwlOutputBinding {
	glob?: string | string[];
	loadContents?: boolean;
	loadListing?: string;
	outputEval?: string;
}

/** A secondary file pattern (`.bai`, `^.bai`, or an expression), and whether it must exist. */
export interface CwlSecondaryFile {
	pattern: string;
	required?: boolean | string;
}

/** A requirement or hint: its class and its fields. */
export interface CwlRequirement {
	class: string;
	[field: string]: unknown;
}

/** An input or output parameter of a process. */
export interface CwlParameter {
	id: string;
	type: CwlType;
	hasDefault: boolean;
	default?: unknown;
	inputBinding?: CwlBinding;
	outputBinding?: CwlOutputBinding;
	secondaryFiles: CwlSecondaryFile[];
	format?: string | string[];
	loadContents?: boolean;
	loadListing?: string;
	/** Workflow outputs: where the value comes from (`step/out` or an input name). */
	outputSource: string[];
	linkMerge?: string;
	pickValue?: string;
	loc?: SourceRef;
}

/** What every process has. */
export interface CwlProcessBase {
	id: string;
	cwlVersion: CwlVersion;
	inputs: CwlParameter[];
	outputs: CwlParameter[];
	requirements: CwlRequirement[];
	hints: CwlRequirement[];
	/** The document URI the process was read from (relative references resolve against it). */
	baseUri: string;
	/** Namespace prefixes in effect (`edam:` → `http://edamontology.org/`). */
	namespaces: Record<string, string>;
	/** Ontologies named by `$schemas` (URIs), for format checking. */
	schemas: string[];
	label?: string;
	loc?: SourceRef;
	/**
	 * Where the process's own fields were written (`stdout`, `arguments`, …), and its requirements and
	 * hints by class, so that an error found while running names the line of the field it is about.
	 */
	fieldLocs?: Record<string, SourceRef>;
}

/** A command-line tool: each invocation is one job. */
export interface CwlCommandLineTool extends CwlProcessBase {
	class: "CommandLineTool";
	baseCommand: string[];
	arguments: Array<string | CwlBinding>;
	stdin?: string;
	stdout?: string;
	stderr?: string;
	successCodes: number[];
	temporaryFailCodes: number[];
	permanentFailCodes: number[];
}

/** A tool whose outputs one JavaScript expression computes. */
export interface CwlExpressionTool extends CwlProcessBase {
	class: "ExpressionTool";
	expression: string;
}

/** An abstract operation: it describes a step but cannot run. */
export interface CwlOperation extends CwlProcessBase {
	class: "Operation";
}

/** A workflow: steps connected by their inputs and outputs. */
export interface CwlWorkflow extends CwlProcessBase {
	class: "Workflow";
	steps: CwlStep[];
}

/** Any runnable CWL process. */
export type CwlProcess = CwlCommandLineTool | CwlExpressionTool | CwlOperation | CwlWorkflow;

/** One step of a workflow. */
export interface CwlStep {
	id: string;
	in: CwlStepInput[];
	out: string[];
	run: CwlProcess;
	requirements: CwlRequirement[];
	hints: CwlRequirement[];
	scatter: string[];
	scatterMethod?: string;
	when?: string;
	loc?: SourceRef;
}

/** One input of a step: its sources and how they combine. */
export interface CwlStepInput {
	id: string;
	source: string[];
	linkMerge?: string;
	pickValue?: string;
	hasDefault: boolean;
	default?: unknown;
	valueFrom?: string;
	loadContents?: boolean;
	loadListing?: string;
	loc?: SourceRef;
}

/** The requirement classes of CWL v1.2 that Orrery implements. */
export const knownRequirements = [
	"InlineJavascriptRequirement",
	"SchemaDefRequirement",
	"LoadListingRequirement",
	"DockerRequirement",
	"SoftwareRequirement",
	"InitialWorkDirRequirement",
	"EnvVarRequirement",
	"ShellCommandRequirement",
	"ResourceRequirement",
	"WorkReuse",
	"NetworkAccess",
	"InplaceUpdateRequirement",
	"ToolTimeLimit",
	"SubworkflowFeatureRequirement",
	"ScatterFeatureRequirement",
	"MultipleInputFeatureRequirement",
	"StepInputExpressionRequirement",
] as const;

/** Finds the requirement (or, failing that, the hint) of a class, the innermost first. */
export function findRequirement(
	scopes: ReadonlyArray<{ requirements: CwlRequirement[]; hints: CwlRequirement[] }>,
	cls: string,
): CwlRequirement | undefined {
	for (let i = scopes.length - 1; i >= 0; i--) {
		const r = scopes[i]?.requirements.find((x) => x.class === cls);
		if (r) return r;
	}
	for (let i = scopes.length - 1; i >= 0; i--) {
		const h = scopes[i]?.hints.find((x) => x.class === cls);
		if (h) return h;
	}
	return undefined;
}
