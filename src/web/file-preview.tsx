import { useEffect, useState } from "react";
import { errorMessage } from "./api-client.js";
import { guessDelimiter, parseDelimited } from "./delimited-text.js";
import { formatBytes, type WorkspaceFile } from "./directory-listing.js";
import { readFileBlob, readFilePrefix } from "./file-transfer.js";
import { type FitsHdu, parseFitsHeaders } from "./fits-header.js";
import { FitsSummary } from "./fits-summary.js";
import { looksLikeText, previewKind } from "./preview-kind.js";
import { ScrollRegion } from "./scroll-region.js";
import { useResource } from "./use-resource.js";

type Preview =
	| { kind: "image"; blob: Blob }
	| { kind: "table"; rows: string[][]; isTruncated: boolean }
	| { kind: "text"; text: string; isTruncated: boolean; note?: string }
	| { kind: "fits"; hdus: FitsHdu[]; isComplete: boolean }
	| { kind: "none"; reason: string };

const limits = {
	image: 25 * 2 ** 20,
	csv: 2 ** 20,
	json: 2 * 2 ** 20,
	fits: 8 * 2 ** 20,
	text: 256 * 1024,
	sniff: 64 * 1024,
};
const maxTableRows = 200;

async function loadPreview(runId: string, file: WorkspaceFile, signal: AbortSignal): Promise<Preview> {
	const kind = previewKind(file.name);
	if (kind === "image") return { kind, blob: await readFileBlob(runId, file.name, limits.image, signal) };
	const gunzip = kind === "fits" && file.name.toLowerCase().endsWith(".gz");
	const prefix = await readFilePrefix(runId, file.name, limits[kind], { signal, gunzip });
	if (kind === "fits") {
		const { hdus, isComplete } = parseFitsHeaders(prefix.bytes);
		return { kind, hdus, isComplete: isComplete && !prefix.isTruncated };
	}
	if (kind === "sniff" && !looksLikeText(prefix.bytes))
		return { kind: "none", reason: "This file is not text, and there is no preview for its type." };
	const text = new TextDecoder().decode(prefix.bytes);
	if (kind === "csv") {
		const { rows, isTruncated } = parseDelimited(text, guessDelimiter(text), maxTableRows, prefix.isTruncated);
		return { kind: "table", rows, isTruncated };
	}
	if (kind === "json" && !prefix.isTruncated) {
		try {
			return { kind: "text", text: JSON.stringify(JSON.parse(text), null, 2), isTruncated: false };
		} catch (e) {
			return { kind: "text", text, isTruncated: false, note: `Not valid JSON: ${errorMessage(e)}` };
		}
	}
	return { kind: "text", text, isTruncated: prefix.isTruncated };
}

function ImagePreview({ blob, alt }: { blob: Blob; alt: string }) {
	const [url, setUrl] = useState<string>();
	useEffect(() => {
		const u = URL.createObjectURL(blob);
		setUrl(u);
		return () => URL.revokeObjectURL(u);
	}, [blob]);
	return url ? <img className="preview-image" src={url} alt={alt} /> : null;
}

function TablePreview({ rows, name }: { rows: string[][]; name: string }) {
	const [head, ...body] = rows;
	if (!head) return <p className="muted">The file is empty.</p>;
	return (
		<div className="table-scroll preview-table">
			<table>
				<caption className="visually-hidden">First rows of {name}</caption>
				<thead>
					<tr>
						{head.map((h, i) => (
							// biome-ignore lint/suspicious/noArrayIndexKey: columns are positional
							<th key={i} scope="col">
								{h}
							</th>
						))}
					</tr>
				</thead>
				<tbody>
					{body.map((r, i) => (
						// biome-ignore lint/suspicious/noArrayIndexKey: rows are positional
						<tr key={i}>
							{r.map((v, j) => (
								// biome-ignore lint/suspicious/noArrayIndexKey: columns are positional
								<td key={j}>{v}</td>
							))}
						</tr>
					))}
				</tbody>
			</table>
		</div>
	);
}

/** A preview of one workspace file: text, a CSV table, pretty JSON, an image, or a FITS header summary. */
export function FilePreview(props: { runId: string; file: WorkspaceFile }) {
	const { file } = props;
	const preview = useResource(`${props.runId}\n${file.name}\n${file["last-modified"]}`, (signal) =>
		loadPreview(props.runId, file, signal),
	);
	const p = preview.isStale ? undefined : preview.data;
	const cut = `Showing the start of the file (${formatBytes(file.size.raw)} in all).`;
	return (
		<div className="preview" data-testid="file-preview">
			{preview.error ? (
				<p className="inline-error" role="alert">
					No preview: {errorMessage(preview.error)}
				</p>
			) : !p ? (
				<p className="muted">Loading preview…</p>
			) : p.kind === "image" ? (
				<ImagePreview blob={p.blob} alt={`Preview of ${file.name}`} />
			) : p.kind === "table" ? (
				<>
					{p.isTruncated ? <p className="muted">Showing the first {p.rows.length} rows.</p> : null}
					<TablePreview rows={p.rows} name={file.name} />
				</>
			) : p.kind === "text" ? (
				<>
					{p.note ? <p className="muted">{p.note}</p> : null}
					{p.isTruncated ? <p className="muted">{cut}</p> : null}
					<ScrollRegion className="preview-text" label={`Contents of ${file.name}`}>
						{p.text}
					</ScrollRegion>
				</>
			) : p.kind === "fits" ? (
				<FitsSummary hdus={p.hdus} isComplete={p.isComplete} />
			) : (
				<p className="muted">{p.reason}</p>
			)}
		</div>
	);
}
