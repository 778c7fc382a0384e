import type { ReanaSpecification } from "../contract/index.js";

/**
 * The input object file of a reana.yaml of type cwl: `workflow.parameters.file`, or REANA's older
 * spelling, a parameter `input` naming a YAML or JSON file (then not a parameter itself); and the
 * parameters that go over the file's values. Undefined when the parameters are the input object.
 */
export function cwlParameterFile(
	spec: ReanaSpecification,
	parameters: Readonly<Record<string, unknown>>,
): { path: string; rest: Record<string, unknown>; isDeclared: boolean } | undefined {
	const declared = spec.workflow.parameters?.file;
	if (declared !== undefined) return { path: declared, rest: { ...parameters }, isDeclared: true };
	const named = parameters.input;
	if (typeof named !== "string" || !/\.(ya?ml|json|cwl)$/i.test(named)) return undefined;
	const rest = Object.fromEntries(Object.entries(parameters).filter(([k]) => k !== "input"));
	return { path: named, rest, isDeclared: false };
}
