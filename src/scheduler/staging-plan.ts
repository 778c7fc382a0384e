import { readFile } from "node:fs/promises";
import { posix } from "node:path";
import type { PublishTarget } from "../contract/index.js";
import type { WorkflowRow } from "../db/index.js";
import { fileLocations, parseCwlText, pathToUri } from "../spec/index.js";
import {
	type EndpointOptions,
	isRemoteLocation,
	lastNameOf,
	parseRemoteUrl,
	type RemoteInputRequest,
	resolveInWorkspace,
	stagedPathOf,
} from "../storage/index.js";
import { decodeWorkflow } from "./run-view.js";

/** The endpoint options a spec entry gives. */
export function endpointOptionsOf(entry: {
	endpoint?: string;
	path_style?: boolean;
	region?: string;
}): EndpointOptions {
	return {
		...(entry.endpoint === undefined ? {} : { endpoint: entry.endpoint }),
		...(entry.path_style === undefined ? {} : { path_style: entry.path_style }),
		...(entry.region === undefined ? {} : { region: entry.region }),
	};
}

/**
 * What a run needs staged in before its first job: `inputs.remote` of reana.yaml, and for CWL the
 * s3:// and https:// File and Directory locations of its input object and main document (each
 * staged at `stagedPathOf(url)`, where the engine looks for it).
 */
export async function remoteInputsOf(wf: WorkflowRow): Promise<RemoteInputRequest[]> {
	const { spec, parameters } = decodeWorkflow(wf);
	const out: RemoteInputRequest[] = (spec.inputs?.remote ?? []).map((entry) => ({
		url: entry.url,
		path: entry.path ?? lastNameOf(parseRemoteUrl(entry.url)),
		sha256: entry.sha256,
		options: endpointOptionsOf(entry),
	}));
	if (wf.type !== "cwl") return out;
	const seen = new Set(out.map((r) => r.url));
	for (const { uri, isDirectory } of await cwlLocations(wf.workspace_path, spec, parameters)) {
		if (!isRemoteLocation(uri)) continue;
		const url = isDirectory && !uri.endsWith("/") ? `${uri}/` : uri;
		if (seen.has(url)) continue;
		seen.add(url);
		out.push({ url, path: stagedPathOf(uri), options: {} });
	}
	return out;
}

/** The File and Directory locations of a CWL run's input object and main document. */
async function cwlLocations(
	workspace: string,
	spec: ReturnType<typeof decodeWorkflow>["spec"],
	parameters: Record<string, unknown>,
): Promise<Array<{ uri: string; isDirectory: boolean }>> {
	const found = fileLocations(parameters, pathToUri(`${workspace}/`));
	const readDoc = async (rel: string): Promise<unknown> => {
		try {
			const abs = await resolveInWorkspace(workspace, rel);
			return parseCwlText(await readFile(abs, "utf8"), rel);
		} catch {
			return undefined; // the engine reports unreadable documents with their positions
		}
	};
	const input = parameters.input;
	if (typeof input === "string" && /\.(ya?ml|json)$/i.test(input)) {
		found.push(...fileLocations(await readDoc(input), pathToUri(posix.join(workspace, input))));
	}
	const file = spec.workflow.file?.replace(/#.*$/, "");
	const doc = spec.workflow.specification ?? (file ? await readDoc(file) : undefined);
	if (doc !== undefined) found.push(...fileLocations(doc, pathToUri(posix.join(workspace, file ?? "workflow.cwl"))));
	return found;
}

/** Where a run publishes its outputs after success (`outputs.publish`). */
export function publishTargetsOf(wf: WorkflowRow): PublishTarget[] {
	return decodeWorkflow(wf).spec.outputs?.publish ?? [];
}

/** The workspace paths a successful run publishes: declared outputs, and the Files of a CWL output object. */
export function publishedPathsOf(wf: WorkflowRow, engineOutputs: unknown): string[] {
	const { spec } = decodeWorkflow(wf);
	const paths = [...(spec.outputs?.files ?? []), ...(spec.outputs?.directories ?? [])];
	const visit = (v: unknown, depth: number): void => {
		if (depth > 50 || typeof v !== "object" || v === null) return;
		if (Array.isArray(v)) {
			for (const x of v) visit(x, depth + 1);
			return;
		}
		const o = v as Record<string, unknown>;
		if ((o.class === "File" || o.class === "Directory") && typeof o.location === "string") {
			if (!/^[a-z][a-z0-9+.-]*:/i.test(o.location) && !o.location.startsWith("/")) paths.push(o.location);
			visit(o.secondaryFiles, depth + 1);
			return;
		}
		for (const x of Object.values(o)) visit(x, depth + 1);
	};
	visit(engineOutputs, 0);
	return [...new Set(paths)];
}

/** The workspace paths remote inputs go to (kept by retention and prune like declared inputs). */
export function remoteInputPathsOf(spec: ReturnType<typeof decodeWorkflow>["spec"]): string[] {
	return (spec.inputs?.remote ?? []).map((e) => e.path ?? lastNameOf(parseRemoteUrl(e.url)));
}
