/** How a file can be previewed in the browser. */
export type PreviewKind = "image" | "csv" | "json" | "fits" | "text" | "sniff";

const byExtension: Record<string, PreviewKind> = {
	png: "image",
	jpg: "image",
	jpeg: "image",
	gif: "image",
	webp: "image",
	avif: "image",
	bmp: "image",
	svg: "image",
	csv: "csv",
	tsv: "csv",
	json: "json",
	geojson: "json",
	ipynb: "json",
	fits: "fits",
	fit: "fits",
	fts: "fits",
	fz: "fits",
};

const textExtensions =
	"txt log out err md rst py sh bash zsh yaml yml cwl cfg conf ini toml r jl c h cc cpp hpp f f90 java js ts go rs tex bib xml html htm sql mk smk snakefile dockerfile makefile dat lst".split(
		" ",
	);

/** The preview for a file name; `sniff` means "look at the first bytes and show it if it is text". */
export function previewKind(path: string): PreviewKind {
	const base = path.split("/").pop()?.toLowerCase() ?? "";
	const parts = base.split(".");
	let ext = parts.length > 1 ? (parts.pop() ?? "") : base;
	if (ext === "gz" && parts.length > 1) {
		const inner = parts.pop() ?? "";
		return byExtension[inner] === "fits" ? "fits" : "sniff";
	}
	ext = ext.toLowerCase();
	return byExtension[ext] ?? (textExtensions.includes(ext) ? "text" : "sniff");
}

/** True when the bytes look like text: no NUL bytes, and valid UTF-8 (a character cut off at the end is fine). */
export function looksLikeText(bytes: Uint8Array): boolean {
	if (bytes.includes(0)) return false;
	try {
		new TextDecoder("utf-8", { fatal: true }).decode(bytes, { stream: true });
		return true;
	} catch {
		return false;
	}
}
