import { posix } from "node:path";
import type { ProvenanceResponse, ReanaSpecification, RoCrateEntity } from "../../contract/index.js";
import type { JobRow, UserRow, WorkflowRow } from "../../db/index.js";
import { decodeWorkflow, runName } from "../../scheduler/index.js";
import { fileLocations, pathToUri, uriToPath } from "../../spec/index.js";
import { crateFiles, idOfPath, maxFileEntities, maxHashedBytes } from "./crate-files.js";
import { actionStatusOf, jobAction } from "./job-actions.js";

/** The profile a run's crate follows: Workflow Run Crate 0.5. */
export const workflowRunCrateProfile = "https://w3id.org/ro/wfrun/workflow/0.5";

const profiles = [
	{ id: "https://w3id.org/ro/wfrun/process/0.5", name: "Process Run Crate", version: "0.5" },
	{ id: workflowRunCrateProfile, name: "Workflow Run Crate", version: "0.5" },
	{ id: "https://w3id.org/workflowhub/workflow-ro-crate/1.0", name: "Workflow RO-Crate", version: "1.0" },
];

/** What the export of one run needs. */
export interface RunCrateInput {
	run: WorkflowRow;
	owner: Pick<UserRow, "email" | "full_name">;
	jobs: readonly JobRow[];
	orreryVersion: string;
	exportedAt: Date;
	signal: AbortSignal;
}

const ref = (id: string) => ({ "@id": id });

/**
 * A run as an RO-Crate 1.1 metadata document (Workflow Run Crate 0.5): the workflow file(s) as the
 * main entity with the SHA-256 recorded when the run started, the run and each of its jobs as
 * CreateActions, its parameters, declared inputs and outputs as they are in the workspace now (hashed
 * within the export's limits), Orrery as the engine. Ids of files are paths relative to the
 * workspace: written at its root, the document describes the files beside it.
 */
export async function runCrate(input: RunCrateInput): Promise<ProvenanceResponse> {
	const { run, jobs } = input;
	const { spec, parameters, options } = decodeWorkflow(run);
	const endedAt = run.finished_at ? new Date(run.finished_at) : undefined;
	const files = crateFiles({
		workspace: run.workspace_path,
		...(endedAt ? { runEndedAt: endedAt } : {}),
		signal: input.signal,
	});
	const name = runName(run);
	const runId = `#run-${run.id}`;
	const person = `mailto:${input.owner.email}`;
	const context: RoCrateEntity[] = [];

	// The workflow files, with the SHA-256 of the record made at start (and whether they changed since).
	const recorded = run.workflow_files === null ? null : (JSON.parse(run.workflow_files) as Record<string, string>);
	const mainPath = mainWorkflowPath(spec, recorded);
	const otherPaths = Object.keys(recorded ?? {}).filter((p) => p !== mainPath);
	const workflowFile = async (path: string, types: string[]) => {
		const id = (await files.file(path, { "@type": types })) ?? idOfPath(path);
		const entity = files.entities.get(id) ?? { "@id": id, "@type": types, name: path };
		files.entities.set(id, entity);
		const atStart = recorded?.[path];
		if (atStart !== undefined) {
			const now = entity.sha256;
			entity.sha256 = atStart;
			entity.description =
				now === atStart
					? "recorded when the run started"
					: now === undefined
						? `recorded when the run started; now ${entity.description ?? "not read"}`
						: `recorded when the run started; changed since (now sha256 ${now})`;
		} else if (entity.sha256 !== undefined) entity.description = "as it is at export time (no record from the start)";
		return id;
	};
	const mainId = await workflowFile(mainPath, ["File", "SoftwareSourceCode", "ComputationalWorkflow"]);
	const main = files.entities.get(mainId) as RoCrateEntity;
	if (spec.workflow.type === "serial" && !spec.workflow.file)
		main.description = "the serial steps are inline in the specification: the run has no workflow file";
	const language = languageOf(spec.workflow.type);
	context.push(language);
	main.programmingLanguage = ref(language["@id"]);
	const otherIds: string[] = [];
	for (const p of otherPaths) otherIds.push(await workflowFile(p, ["File", "SoftwareSourceCode"]));
	if (otherIds.length > 0) main.hasPart = otherIds.map(ref);

	// Parameters and operational options, then the declared inputs.
	const objects: string[] = [];
	for (const [key, value] of Object.entries(parameters)) {
		const id = `#param-${encodeURIComponent(key)}`;
		context.push({ "@id": id, "@type": "PropertyValue", name: key, value: literal(value) });
		objects.push(id);
	}
	for (const [key, value] of Object.entries(options)) {
		const id = `#option-${encodeURIComponent(key)}`;
		context.push({
			"@id": id,
			"@type": "PropertyValue",
			name: key,
			value: literal(value),
			description: "operational option",
		});
		objects.push(id);
	}
	const topLevel = new Set<string>([mainId, ...otherIds]);
	const inputPaths = [...(spec.inputs?.files ?? []), ...(spec.inputs?.directories ?? [])];
	if (spec.workflow.parameters?.file) inputPaths.push(spec.workflow.parameters.file);
	for (const p of inputPaths) {
		for (const id of await files.declared(p)) {
			objects.push(id);
			topLevel.add(id);
		}
	}

	// The declared outputs, and the files of the output object an engine reported (CWL).
	const results: string[] = [];
	const outputPaths = [...(spec.outputs?.files ?? []), ...(spec.outputs?.directories ?? [])];
	outputPaths.push(...reportedOutputPaths(run));
	for (const p of outputPaths) {
		for (const id of await files.declared(p)) {
			if (!results.includes(id)) results.push(id);
			topLevel.add(id);
		}
	}

	// Orrery, the run and its jobs.
	context.push({
		"@id": "#orrery",
		"@type": "SoftwareApplication",
		name: "Orrery",
		softwareVersion: input.orreryVersion,
	});
	context.push({
		"@id": person,
		"@type": "Person",
		name: input.owner.full_name ?? input.owner.email,
		email: input.owner.email,
	});
	const runAction: RoCrateEntity = {
		"@id": runId,
		"@type": "CreateAction",
		name: `Run ${name} of ${mainPath}`,
		instrument: ref(mainId),
		agent: ref(person),
		actionStatus: actionStatusOf(run.status),
		object: objects.map(ref),
		result: results.map(ref),
	};
	if (run.started_at) runAction.startTime = run.started_at;
	if (run.finished_at) runAction.endTime = run.finished_at;
	if ((run.status === "failed" || run.status === "stopped") && run.status_message) runAction.error = run.status_message;
	context.push(runAction, {
		"@id": `#orrery-run-${run.id}`,
		"@type": "OrganizeAction",
		name: `Orrery ${input.orreryVersion} running ${name}`,
		instrument: ref("#orrery"),
		agent: ref(person),
		result: ref(runId),
	});
	const steps = new Map<string, string>();
	const stepOf = (step: string) => {
		let id = steps.get(step);
		if (!id) {
			id = `#step-${encodeURIComponent(step)}`;
			steps.set(step, id);
			context.push({
				"@id": id,
				"@type": "SoftwareApplication",
				name: step,
				description: `step ${step} of ${mainPath}`,
			});
		}
		return id;
	};
	const jobIds: string[] = [];
	const images = new Set<string>();
	for (const job of jobs) {
		const [action, ...more] = jobAction(job, { agent: person, instrumentOf: stepOf });
		jobIds.push((action as RoCrateEntity)["@id"]);
		context.push(action as RoCrateEntity);
		for (const e of more) {
			if (e["@type"] === "ContainerImage") {
				if (images.has(e["@id"])) continue;
				images.add(e["@id"]);
			}
			context.push(e);
		}
	}
	if (steps.size > 0) main.hasPart = [...((main.hasPart as unknown[]) ?? []), ...[...steps.values()].map(ref)];

	const { omitted } = files;
	const notes = [
		`Provenance of the Orrery run ${name} (${run.status}).`,
		"Workflow files carry the SHA-256 Orrery recorded when the run started; input and output files are described as they are in the workspace at export time (size, modification time and SHA-256 computed then), and a file modified after the run ended says so.",
		`The export lists at most ${maxFileEntities} files and hashes at most ${maxHashedBytes / 1024 ** 3} GiB.`,
	];
	if (omitted.files > 0)
		notes.push(
			`${omitted.files}${omitted.isWalkCut ? "+" : ""} more files (${omitted.bytes} bytes) are counted but not listed.`,
		);
	if (omitted.unhashed > 0) notes.push(`${omitted.unhashed} listed files are not hashed.`);
	const root: RoCrateEntity = {
		"@id": "./",
		"@type": "Dataset",
		name: `Orrery run ${name}`,
		description: notes.join(" "),
		datePublished: input.exportedAt.toISOString(),
		conformsTo: profiles.map((p) => ref(p.id)),
		mainEntity: ref(mainId),
		hasPart: [...topLevel].map(ref),
		mentions: [runId, ...jobIds].map(ref),
	};
	return {
		"@context": ["https://w3id.org/ro/crate/1.1/context", "https://w3id.org/ro/terms/workflow-run/context"],
		"@graph": [
			{
				"@id": "ro-crate-metadata.json",
				"@type": "CreativeWork",
				about: ref("./"),
				conformsTo: [ref("https://w3id.org/ro/crate/1.1"), ref("https://w3id.org/workflowhub/workflow-ro-crate/1.0")],
			},
			root,
			...profiles.map((p) => ({ "@id": p.id, "@type": "CreativeWork", name: p.name, version: p.version })),
			...files.entities.values(),
			...context,
		],
	};
}

/** The main workflow file's path: `workflow.file` (without a `#process` fragment), or reana.yaml when the steps are inline. */
function mainWorkflowPath(spec: ReanaSpecification, recorded: Record<string, string> | null): string {
	const file = spec.workflow.file ?? (spec.workflow.type === "snakemake" ? "Snakefile" : undefined);
	if (file === undefined) return "reana.yaml";
	if (recorded && file in recorded) return file;
	const hash = file.lastIndexOf("#");
	return hash > 0 && spec.workflow.type === "cwl" ? file.slice(0, hash) : file;
}

/** Workspace paths of the Files and Directories in the output object an engine reported (CWL). */
function reportedOutputPaths(run: WorkflowRow): string[] {
	if (run.outputs === null) return [];
	const ws = run.workspace_path;
	const out: string[] = [];
	for (const loc of fileLocations(JSON.parse(run.outputs), pathToUri(`${ws}/`))) {
		if (!loc.uri.startsWith("file:")) continue;
		const rel = posix.relative(ws, uriToPath(loc.uri));
		if (rel && rel !== ".." && !rel.startsWith("../") && !posix.isAbsolute(rel)) out.push(rel);
	}
	return out;
}

/** The workflow language entity (Workflow RO-Crate's ids for CWL and Snakemake). */
function languageOf(type: string): RoCrateEntity {
	switch (type) {
		case "cwl":
			return {
				"@id": "https://w3id.org/workflowhub/workflow-ro-crate#cwl",
				"@type": "ComputerLanguage",
				name: "Common Workflow Language",
				alternateName: "CWL",
				identifier: ref("https://w3id.org/cwl/v1.2/"),
				url: ref("https://www.commonwl.org/"),
			};
		case "snakemake":
			return {
				"@id": "https://w3id.org/workflowhub/workflow-ro-crate#snakemake",
				"@type": "ComputerLanguage",
				name: "Snakemake",
				identifier: ref("https://doi.org/10.1093/bioinformatics/bts480"),
				url: ref("https://snakemake.readthedocs.io"),
			};
		default:
			return {
				"@id": `#language-${type}`,
				"@type": "ComputerLanguage",
				name: `REANA ${type} workflow`,
				url: ref("https://docs.reana.io/running-workflows/supported-systems/"),
			};
	}
}

/** A parameter's value as a JSON-LD literal: text, a number or a boolean; anything else as JSON text. */
function literal(value: unknown): string | number | boolean {
	return typeof value === "string" || typeof value === "number" || typeof value === "boolean"
		? value
		: JSON.stringify(value);
}
