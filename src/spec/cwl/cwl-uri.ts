import { fileURLToPath, pathToFileURL } from "node:url";

/** Resolves a reference against a base URI (Schema Salad's rule: plain RFC 3986 resolution). */
export function resolveUri(base: string, ref: string): string {
	if (/^[A-Za-z][A-Za-z0-9+.-]*:/.test(ref) && !/^[A-Za-z]:[\\/]/.test(ref)) return ref;
	if (ref.startsWith("/")) return pathToFileURL(ref).href;
	if (ref.startsWith("#")) return `${withoutFragment(base)}${ref}`;
	try {
		return new URL(encodePathChars(ref), base).href;
	} catch {
		return ref;
	}
}

/** Characters that are fine in a file name but mean something in a URI reference. */
function encodePathChars(ref: string): string {
	const hash = ref.indexOf("#");
	const path = hash < 0 ? ref : ref.slice(0, hash);
	const fragment = hash < 0 ? "" : ref.slice(hash);
	const encoded = path
		.split("/")
		.map((seg) =>
			seg
				.replace(/%(?![0-9A-Fa-f]{2})/g, "%25")
				.replace(/\?/g, "%3F")
				.replace(/ /g, "%20"),
		)
		.join("/");
	// A first segment with a colon would read as a scheme: keep it relative.
	return /^[^/]*:/.test(encoded) ? `./${encoded}${fragment}` : `${encoded}${fragment}`;
}

/** The URI without its `#fragment`. */
export function withoutFragment(uri: string): string {
	const i = uri.indexOf("#");
	return i < 0 ? uri : uri.slice(0, i);
}

/** The fragment of a URI (without `#`), or undefined. */
export function fragmentOf(uri: string): string | undefined {
	const i = uri.indexOf("#");
	return i < 0 ? undefined : uri.slice(i + 1);
}

/** The local path of a `file:` URI. */
export function uriToPath(uri: string): string {
	return fileURLToPath(withoutFragment(uri));
}

/** A `file:` URI for an absolute path. */
export function pathToUri(path: string): string {
	return pathToFileURL(path).href;
}

/**
 * The short name of an identifier inside a scope: `#main/step/out` in scope `main` is `step/out`;
 * `file.cwl#inp` is `inp`; a plain `inp` stays `inp`.
 */
export function shortName(ref: string, scope: string | undefined): string {
	let f = ref.includes("#") ? (fragmentOf(ref) ?? ref) : ref;
	if (scope && f.startsWith(`${scope}/`)) f = f.slice(scope.length + 1);
	return f;
}

/** The last `/` segment of an identifier (record fields and enum symbols are named this way). */
export function lastSegment(ref: string): string {
	const f = ref.includes("#") ? (fragmentOf(ref) ?? ref) : ref;
	const i = f.lastIndexOf("/");
	return i < 0 ? f : f.slice(i + 1);
}
