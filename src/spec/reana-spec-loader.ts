import { readFile } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { ReanaSpecification, SerialSpecification, SerialStep } from "../contract/schemas.js";
import { valueNestingProblem } from "./nesting-limit.js";
import { bracedReferences, looksLikeEnvironmentVariable, type Parameters } from "./parameters.js";
import { formatPath, type Problem, SpecError } from "./problem.js";
import { checkRemoteEntries } from "./remote-entries.js";
import { checkSchema, closest, type Locator } from "./schema-check.js";
import { parseYamlSource } from "./yaml-source.js";

/** The workflow types Orrery can run or plans to run. */
export type WorkflowType = ReanaSpecification["workflow"]["type"];

/** A validated reana.yaml: the specification as JSON (serial steps inlined), plus warnings. */
export interface LoadedSpec {
	file: string;
	type: WorkflowType;
	reana: ReanaSpecification;
	warnings: Problem[];
}

/** Options for loading a reana.yaml. */
export interface LoadSpecOptions {
	/** Parameters that will override `inputs.parameters` at start (REANA's `-p`). */
	parameters?: Parameters;
}

const stepKeys = Object.keys(SerialStep.properties);

/** Reads and validates a reana.yaml file; a `workflow.file` of a serial workflow is read and inlined. */
export async function loadReanaSpecFile(path: string, options: LoadSpecOptions = {}): Promise<LoadedSpec> {
	const display = basename(path);
	const text = await readText(path, display, "check the path; run the command in the folder holding reana.yaml");
	const parsed = parseYamlSource(text, display);
	if (!parsed.source) throw new SpecError(parsed.problems);
	const value = parsed.source.value;
	const locate: Locator = (p, o) => parsed.source?.locate(p, o);
	let workflowLocate: Locator | undefined;
	let workflowFile: string | undefined;
	const wf = isRecord(value) && isRecord(value.workflow) ? value.workflow : undefined;
	if (wf && wf.type === "serial" && typeof wf.file === "string" && wf.specification === undefined) {
		workflowFile = wf.file;
		const inner = join(dirname(path), wf.file);
		const innerText = await readText(inner, wf.file, `'workflow.file' in ${display} names a file that must exist`);
		const innerParsed = parseYamlSource(innerText, wf.file);
		if (!innerParsed.source) throw new SpecError(innerParsed.problems);
		wf.specification = innerParsed.source.value as Record<string, unknown>;
		const innerSource = innerParsed.source;
		workflowLocate = (p, o) => innerSource.locate(p, o);
	}
	return validateReanaSpec(value, display, {
		locate: (p, o) => {
			if (workflowLocate && p[0] === "workflow" && p[1] === "specification") return workflowLocate(p.slice(2), o);
			return locate(p, o);
		},
		...(workflowFile === undefined ? {} : { workflowFile }),
		...(options.parameters === undefined ? {} : { parameters: options.parameters }),
	});
}

/** Options for validating a specification that is already parsed. */
export interface ValidateSpecOptions {
	locate?: Locator;
	/** The file the serial steps came from, when not inline. */
	workflowFile?: string;
	parameters?: Parameters;
}

/** Validates a specification object (e.g. the JSON body of an API call); throws a SpecError listing every error. */
export function validateReanaSpec(value: unknown, file = "reana.yaml", options: ValidateSpecOptions = {}): LoadedSpec {
	const locate: Locator = options.locate ?? (() => undefined);
	// Before anything walks it recursively (a JSON body is not checked while it is parsed).
	const deep = valueNestingProblem(value, file);
	if (deep) throw new SpecError([deep]);
	const problems = checkSchema(ReanaSpecification, value, file, locate);
	const spec = value as ReanaSpecification;
	if (problems.length === 0) {
		problems.push(...checkWorkflow(spec, file, locate, options), ...checkRemoteEntries(spec, file, locate));
	}
	const errors = problems.filter((p) => p.severity === "error");
	if (errors.length > 0) throw new SpecError([...errors, ...problems.filter((p) => p.severity === "warning")]);
	return { file, type: spec.workflow.type, reana: spec, warnings: problems };
}

function checkWorkflow(
	spec: ReanaSpecification,
	file: string,
	locate: Locator,
	options: ValidateSpecOptions,
): Problem[] {
	const problems: Problem[] = [];
	const at = (path: Array<string | number>, key = false) => {
		const pos = locate(path, { key });
		return pos ? { line: pos.line, column: pos.column } : {};
	};
	const wf = spec.workflow;
	if (wf.file === undefined && wf.specification === undefined) {
		problems.push({
			severity: "error",
			file,
			...at(["workflow"], true),
			path: "workflow",
			message: "the workflow has neither 'file' nor 'specification'",
			hint:
				wf.type === "serial"
					? "add 'specification: { steps: [...] }' under workflow"
					: "add 'file: <workflow file>' under workflow",
		});
		return problems;
	}
	if (wf.type === "yadage") {
		problems.push({
			severity: "error",
			file,
			...at(["workflow", "type"]),
			path: "workflow.type",
			message: "yadage workflows are not supported by Orrery",
			hint: "use serial or cwl",
		});
		return problems;
	}
	if (wf.type !== "serial") return problems;
	const specFile = options.workflowFile ?? file;
	const serial = checkSchema(SerialSpecification, wf.specification, specFile, locate, ["workflow", "specification"]);
	if (serial.length > 0) return serial;
	const steps = (wf.specification as SerialSpecification).steps;
	const parameters = { ...(spec.inputs?.parameters ?? {}), ...(options.parameters ?? {}) };
	steps.forEach((step, i) => {
		for (const key of Object.keys(step)) {
			if (stepKeys.includes(key)) continue;
			const guess = closest(key, stepKeys);
			const path = ["workflow", "specification", "steps", i, key];
			problems.push({
				severity: "warning",
				file: specFile,
				...at(path, true),
				path: formatPath(path),
				message: `unknown key '${key}' in step ${stepLabel(step, i)} is ignored`,
				hint: guess ? `did you mean '${guess}'?` : `known keys: ${stepKeys.join(", ")}`,
			});
		}
		step.commands.forEach((command, j) => {
			for (const ref of bracedReferences(command)) {
				if (Object.hasOwn(parameters, ref.name)) continue;
				const path = ["workflow", "specification", "steps", i, "commands", j];
				const isEnv = looksLikeEnvironmentVariable(ref.name);
				problems.push({
					severity: isEnv ? "warning" : "error",
					file: specFile,
					...at(path),
					path: formatPath(path),
					message: `step ${stepLabel(step, i)} uses the parameter '${ref.name}', which is not defined`,
					hint: isEnv
						? `left for the shell to expand as an environment variable; define it under inputs.parameters if it is a parameter`
						: `define '${ref.name}' under inputs.parameters, or write $\${${ref.name}} if the shell should expand it`,
				});
			}
		});
	});
	const names = new Map<string, number>();
	steps.forEach((step, i) => {
		if (step.name === undefined) return;
		const prev = names.get(step.name);
		if (prev !== undefined) {
			const path = ["workflow", "specification", "steps", i, "name"];
			problems.push({
				severity: "error",
				file: specFile,
				...at(path),
				path: formatPath(path),
				message: `step name '${step.name}' is used by steps ${prev} and ${i}`,
				hint: "give each step a unique name; FROM and TARGET select steps by name",
			});
		}
		names.set(step.name, i);
	});
	return problems;
}

/** A step's display name: its name, or its position. */
export function stepLabel(step: { name?: string | undefined }, index: number): string {
	return step.name ? `'${step.name}'` : `#${index}`;
}

async function readText(path: string, display: string, hint: string): Promise<string> {
	try {
		return await readFile(path, "utf8");
	} catch (cause) {
		const code = (cause as NodeJS.ErrnoException).code;
		throw new SpecError([
			{
				severity: "error",
				file: display,
				path: "",
				message: code === "ENOENT" ? `${path} does not exist` : `${path} cannot be read (${code ?? "error"})`,
				hint,
			},
		]);
	}
}

function isRecord(value: unknown): value is Record<string, unknown> {
	return typeof value === "object" && value !== null && !Array.isArray(value);
}
