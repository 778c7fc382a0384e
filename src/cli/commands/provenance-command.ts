import type { Command } from "commander";
import type { ProvenanceResponse, RoCrateEntity } from "../../contract/index.js";
import { statusColour } from "../output.js";
import type { Session } from "../session.js";
import { type Action, short } from "./workflow-commands.js";

/** `orrery provenance`: a run's provenance, as a summary or as its RO-Crate metadata document. */
export function registerProvenanceCommand(program: Command, action: Action): void {
	program
		.command("provenance")
		.description(
			"a run's provenance: workflow files with their SHA-256, parameters, jobs, output files (--json, -o FILE: the RO-Crate metadata document)",
		)
		.option("-w, --workflow <name>", "workflow (NAME, NAME.RUN or id)")
		.option("-o, --output <file>", "write the RO-Crate metadata document there (e.g. ro-crate-metadata.json)")
		.option("--json", "print the RO-Crate metadata document")
		.action(
			action(async (session: Session, opts: { workflow?: string; output?: string }) => {
				const api = await session.api();
				const crate = await api.call("get_workflow_provenance", {
					params: { workflow_id_or_name: session.workflow(opts.workflow) },
				});
				if (opts.output) {
					const { writeFile } = await import("node:fs/promises");
					await writeFile(opts.output, `${JSON.stringify(crate, null, 2)}\n`);
					session.out.note(`wrote ${opts.output}`);
				}
				if (session.out.isJson) return session.out.json(crate);
				if (!opts.output) printSummary(session, crate);
			}),
		);
}

const statusNames: Record<string, string> = {
	CompletedActionStatus: "finished",
	FailedActionStatus: "failed",
	ActiveActionStatus: "active",
	PotentialActionStatus: "not started",
};

/** The human summary: workflow files with short hashes, parameters, jobs, output files with hashes. */
function printSummary(session: Session, crate: ProvenanceResponse): void {
	const byId = new Map(crate["@graph"].map((e) => [e["@id"], e as RoCrateEntity]));
	const get = (ref: unknown) => byId.get(idOf(ref) ?? "");
	const root = byId.get("./");
	const main = get(root?.mainEntity);
	const run = refs(root?.mentions)
		.map((id) => byId.get(id))
		.find((e) => e && idOf(e.instrument) === main?.["@id"]);
	const out = session.out;
	const hash = (e: RoCrateEntity | undefined) =>
		typeof e?.sha256 === "string" ? `sha256:${e.sha256.slice(0, 12)}` : "-";
	const status = statusOf(run);
	out.line(
		`${String(root?.name ?? "run")}: ${out.colour(statusColour(status), status)}, ${short(text(run?.startTime))} → ${short(text(run?.endTime))}, by ${text(get(run?.agent)?.name) || "-"}`,
	);
	out.line();
	out.line(out.colour("bold", "Workflow files:"));
	const workflowFiles = [main, ...refs(main?.hasPart).map((id) => byId.get(id))].filter(
		(e): e is RoCrateEntity => e !== undefined && typesOf(e).includes("File"),
	);
	out.table(
		["file", "sha256", "note"],
		workflowFiles.map((f) => [text(f.name) || f["@id"], hash(f), text(f.description)]),
	);
	const values = refs(run?.object)
		.map((id) => byId.get(id))
		.filter((e): e is RoCrateEntity => e?.["@type"] === "PropertyValue");
	if (values.length > 0) {
		out.line();
		out.line(out.colour("bold", "Parameters:"));
		for (const v of values)
			out.line(`  ${text(v.name)} = ${text(v.value)}${v.description ? ` (${text(v.description)})` : ""}`);
	}
	const jobs = refs(root?.mentions)
		.map((id) => byId.get(id))
		.filter((e): e is RoCrateEntity => e !== undefined && e !== run && e["@type"] === "CreateAction");
	out.line();
	out.line(out.colour("bold", "Jobs:"));
	out.table(
		["step", "status", "image", "started", "finished", "note"],
		jobs.map((j) => {
			const image = get(j.containerImage);
			const name = image ? `${text(image.name)}${image.tag ? `:${text(image.tag)}` : ""}` : "-";
			const s = statusOf(j);
			const note = text(j.disambiguatingDescription).startsWith("not run: ")
				? text(j.disambiguatingDescription).slice("not run: ".length)
				: "";
			return [
				text(j.name),
				out.colour(statusColour(s), s),
				name,
				short(text(j.startTime)),
				short(text(j.endTime)),
				note,
			];
		}),
	);
	const outputs: RoCrateEntity[] = [];
	for (const id of refs(run?.result)) {
		const e = byId.get(id);
		if (!e) continue;
		if (e["@type"] === "Dataset") outputs.push(...refs(e.hasPart).flatMap((p) => byId.get(p) ?? []));
		else outputs.push(e);
	}
	out.line();
	out.line(out.colour("bold", "Output files:"));
	if (outputs.length === 0) out.line("  none declared");
	else
		out.table(
			["file", "sha256", "bytes", "note"],
			outputs.map((f) => [text(f.name) || f["@id"], hash(f), text(f.contentSize) || "-", text(f.description)]),
		);
}

function idOf(ref: unknown): string | undefined {
	return typeof ref === "object" && ref !== null && typeof (ref as { "@id"?: unknown })["@id"] === "string"
		? (ref as { "@id": string })["@id"]
		: undefined;
}

function refs(value: unknown): string[] {
	return (Array.isArray(value) ? value : value === undefined ? [] : [value]).flatMap((r) => idOf(r) ?? []);
}

function typesOf(e: RoCrateEntity): string[] {
	return Array.isArray(e["@type"]) ? e["@type"] : [e["@type"]];
}

function text(value: unknown): string {
	return value === undefined || value === null ? "" : String(value);
}

function statusOf(action: RoCrateEntity | undefined): string {
	const id = idOf(action?.actionStatus) ?? "";
	return statusNames[id.replace(/^https?:\/\/schema\.org\//, "")] ?? "unknown";
}
