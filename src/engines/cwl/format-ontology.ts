import type { WorkspaceFiles } from "../../storage/index.js";

/** Class relations read from an ontology: each class's superclasses and equivalents. */
type Relations = Map<string, Set<string>>;

const cache = new Map<string, Promise<Relations>>();

/**
 * True when a file's format is the expected one, or (through the `$schemas` ontologies, RDF/XML
 * or Turtle) a subclass of it or equivalent to it.
 */
export async function formatMatches(
	actual: string,
	expected: string,
	schemaPaths: readonly string[],
	files: WorkspaceFiles,
): Promise<boolean> {
	if (actual === expected) return true;
	if (schemaPaths.length === 0) return false;
	const graph: Relations = new Map();
	for (const path of schemaPaths) {
		let rel = cache.get(path);
		if (!rel) {
			rel = files
				.readText(path)
				.then(parseOntology)
				.catch(() => new Map());
			cache.set(path, rel);
		}
		for (const [k, vs] of await rel) {
			const set = graph.get(k) ?? new Set();
			for (const v of vs) set.add(v);
			graph.set(k, set);
		}
	}
	const seen = new Set([actual]);
	const queue = [actual];
	while (queue.length > 0) {
		const c = queue.shift() as string;
		for (const next of graph.get(c) ?? []) {
			if (next === expected) return true;
			if (!seen.has(next)) {
				seen.add(next);
				queue.push(next);
			}
		}
	}
	return false;
}

function add(rel: Relations, from: string, to: string): void {
	const set = rel.get(from) ?? new Set();
	set.add(to);
	rel.set(from, set);
}

/** Reads subClassOf and equivalentClass statements from RDF/XML or Turtle text. */
export function parseOntology(text: string): Relations {
	const rel: Relations = new Map();
	if (text.trimStart().startsWith("<")) {
		const classRe = /<owl:Class\s+rdf:about="([^"]+)"\s*>([\s\S]*?)<\/owl:Class>/g;
		for (const m of text.matchAll(classRe)) {
			const about = m[1] as string;
			for (const s of (m[2] as string).matchAll(/<rdfs:subClassOf\s+rdf:resource="([^"]+)"/g))
				add(rel, about, s[1] as string);
			for (const s of (m[2] as string).matchAll(/<owl:equivalentClass\s+rdf:resource="([^"]+)"/g)) {
				add(rel, about, s[1] as string);
				add(rel, s[1] as string, about);
			}
		}
		return rel;
	}
	const prefixes = new Map<string, string>();
	for (const m of text.matchAll(/@prefix\s+([\w-]*):\s*<([^>]+)>\s*\./g)) prefixes.set(m[1] as string, m[2] as string);
	const expand = (term: string): string => {
		if (term.startsWith("<") && term.endsWith(">")) return term.slice(1, -1);
		const i = term.indexOf(":");
		const ns = i >= 0 ? prefixes.get(term.slice(0, i)) : undefined;
		return ns === undefined ? term : ns + term.slice(i + 1);
	};
	for (const line of text.split(/\s\.\s*(?:\n|$)/)) {
		const parts = line.trim().split(/\s+/);
		if (parts.length < 3) continue;
		const [s, p, o] = parts.map(expand) as [string, string, string];
		if (p === "http://www.w3.org/2000/01/rdf-schema#subClassOf") add(rel, s, o);
		if (p === "http://www.w3.org/2002/07/owl#equivalentClass") {
			add(rel, s, o);
			add(rel, o, s);
		}
	}
	return rel;
}
