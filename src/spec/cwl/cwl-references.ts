import type { CwlProcess, CwlSecondaryFile, CwlType } from "./cwl-model.js";
import { resolveUri } from "./cwl-uri.js";

/** The files a CWL run needs beyond its documents: what defaults, listings and ontologies name. */
export interface CwlReferences {
	/** File and Directory locations (URIs) named in the documents (defaults, InitialWorkDir listings). */
	locations: Array<{ uri: string; isDirectory: boolean }>;
	/** Ontologies of `$schemas`. */
	schemas: string[];
	/** Secondary file patterns that are plain text (`.bai`, `^.bai`). */
	patterns: string[];
	/** True when some secondary file pattern is an expression (its files cannot be known beforehand). */
	hasExpressionPatterns: boolean;
}

/** Lists what a loaded process refers to, in all its steps and sub-processes. */
export function processReferences(root: CwlProcess): CwlReferences {
	const out: CwlReferences = { locations: [], schemas: [...root.schemas], patterns: [], hasExpressionPatterns: false };
	const seen = new Set<string>();
	const addPatterns = (sfs: readonly CwlSecondaryFile[]) => {
		for (const sf of sfs) {
			if (sf.pattern.includes("$(") || sf.pattern.includes("${")) out.hasExpressionPatterns = true;
			else if (!out.patterns.includes(sf.pattern)) out.patterns.push(sf.pattern);
		}
	};
	const walkType = (t: CwlType) => {
		if (Array.isArray(t)) t.forEach(walkType);
		else if (typeof t === "object") {
			if (t.type === "array") walkType(t.items);
			if (t.type === "record") {
				for (const f of t.fields) {
					addPatterns(f.secondaryFiles);
					walkType(f.type);
				}
			}
		}
	};
	const visit = (p: CwlProcess) => {
		if (seen.has(p.id)) return;
		seen.add(p.id);
		for (const s of p.schemas) if (!out.schemas.includes(s)) out.schemas.push(s);
		for (const param of [...p.inputs, ...p.outputs]) {
			addPatterns(param.secondaryFiles);
			walkType(param.type);
			if (param.hasDefault) out.locations.push(...fileLocations(param.default, p.baseUri));
		}
		for (const r of [...p.requirements, ...p.hints]) {
			if (r.class === "InitialWorkDirRequirement") out.locations.push(...fileLocations(r.listing, p.baseUri));
		}
		if (p.class === "Workflow") {
			for (const step of p.steps) {
				for (const i of step.in) if (i.hasDefault) out.locations.push(...fileLocations(i.default, p.baseUri));
				for (const r of [...step.requirements, ...step.hints]) {
					if (r.class === "InitialWorkDirRequirement") out.locations.push(...fileLocations(r.listing, p.baseUri));
				}
				visit(step.run);
			}
		}
	};
	visit(root);
	return out;
}

/** Every File and Directory location (as an absolute URI) in a value such as an input object. */
export function fileLocations(value: unknown, base: string, depth = 0): Array<{ uri: string; isDirectory: boolean }> {
	if (depth > 50 || typeof value !== "object" || value === null) return [];
	if (Array.isArray(value)) return value.flatMap((v) => fileLocations(v, base, depth + 1));
	const obj = value as Record<string, unknown>;
	const out: Array<{ uri: string; isDirectory: boolean }> = [];
	if (obj.class === "File" || obj.class === "Directory") {
		const isDirectory = obj.class === "Directory";
		if (typeof obj.location === "string" && !obj.location.startsWith("_:") && !obj.location.includes("$(")) {
			out.push({ uri: resolveUri(base, obj.location), isDirectory });
		} else if (typeof obj.path === "string" && !obj.path.includes("$(")) {
			out.push({ uri: resolveUri(base, encodeURI(obj.path).replace(/#/g, "%23")), isDirectory });
		}
		for (const k of ["secondaryFiles", "listing"]) out.push(...fileLocations(obj[k], base, depth + 1));
		return out;
	}
	for (const v of Object.values(obj)) out.push(...fileLocations(v, base, depth + 1));
	return out;
}
