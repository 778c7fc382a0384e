// The fields CWL v1.2 allows on processes and parameters (anything else is reported, with a suggestion).

/** The classes of runnable processes. */
export const processClasses = ["CommandLineTool", "ExpressionTool", "Workflow", "Operation"] as const;
/** Fields every process may have. */
export const commonFields = [
	"id",
	"class",
	"label",
	"doc",
	"inputs",
	"outputs",
	"requirements",
	"hints",
	"cwlVersion",
	"intent",
];
/** The fields of each process class beyond the common ones. */
export const classFields: Record<(typeof processClasses)[number], string[]> = {
	CommandLineTool: [
		"baseCommand",
		"arguments",
		"stdin",
		"stdout",
		"stderr",
		"successCodes",
		"temporaryFailCodes",
		"permanentFailCodes",
	],
	ExpressionTool: ["expression"],
	Workflow: ["steps"],
	Operation: [],
};
/** Fields of an input parameter. */
export const inputFields = [
	"id",
	"label",
	"doc",
	"type",
	"default",
	"inputBinding",
	"secondaryFiles",
	"format",
	"streamable",
	"loadContents",
	"loadListing",
];
/** Fields of an output parameter. */
export const outputFields = [
	"id",
	"label",
	"doc",
	"type",
	"outputBinding",
	"secondaryFiles",
	"format",
	"streamable",
	"outputSource",
	"linkMerge",
	"pickValue",
];
