import { apiCall, apiFetch, apiPath } from "./api-client.js";

/** The first bytes of a file and whether there is more. */
export interface FilePrefix {
	bytes: Uint8Array;
	isTruncated: boolean;
	/** The whole file's size when the server said (Content-Length). */
	size: number | undefined;
	contentType: string;
}

function filePath(runId: string, path: string): string {
	return apiPath("download_file", { workflow_id_or_name: runId, "*": path });
}

async function readUpTo(body: ReadableStream<Uint8Array>, maxBytes: number) {
	const reader = body.getReader();
	const parts: Uint8Array[] = [];
	let total = 0;
	let isTruncated = false;
	try {
		while (total < maxBytes) {
			const { done, value } = await reader.read();
			if (done) break;
			parts.push(value);
			total += value.byteLength;
		}
		if (total >= maxBytes) isTruncated = !(await reader.read()).done;
	} finally {
		// Stop the transfer: a preview never needs the rest.
		await reader.cancel().catch(() => undefined);
	}
	const bytes = new Uint8Array(Math.min(total, maxBytes));
	let at = 0;
	for (const p of parts) {
		const take = p.subarray(0, bytes.length - at);
		bytes.set(take, at);
		at += take.byteLength;
		if (at >= bytes.length) break;
	}
	return { bytes, isTruncated: isTruncated || total > maxBytes };
}

/**
 * Reads at most `maxBytes` of a workspace file and stops the transfer there (the download endpoint has no
 * ranges yet). `gunzip` decompresses on the way (FITS files are often gzipped).
 */
export async function readFilePrefix(
	runId: string,
	path: string,
	maxBytes: number,
	options: { signal?: AbortSignal; gunzip?: boolean } = {},
): Promise<FilePrefix> {
	const res = await apiFetch(filePath(runId, path), options.signal ? { signal: options.signal } : {});
	const length = res.headers.get("content-length");
	if (!res.body) return { bytes: new Uint8Array(), isTruncated: false, size: 0, contentType: "" };
	const body = options.gunzip ? res.body.pipeThrough(new DecompressionStream("gzip")) : res.body;
	const { bytes, isTruncated } = await readUpTo(body, maxBytes);
	return {
		bytes,
		isTruncated,
		size: length === null ? undefined : Number(length),
		contentType: res.headers.get("content-type") ?? "",
	};
}

/** Fetches a whole file as a Blob (for images), refusing files above `maxBytes`. */
export async function readFileBlob(runId: string, path: string, maxBytes: number, signal?: AbortSignal): Promise<Blob> {
	const res = await apiFetch(filePath(runId, path), signal ? { signal } : {});
	const length = Number(res.headers.get("content-length") ?? "0");
	if (length > maxBytes) {
		await res.body?.cancel();
		throw new Error(`the file is too large to preview (${length} bytes); download it instead`);
	}
	return res.blob();
}

/**
 * Downloads a workspace file (or a folder, as a zip) to the reader's computer. The credential travels in a
 * header, never in the URL, so the file is fetched and then handed to the browser as a blob.
 */
export async function downloadFile(
	runId: string,
	path: string,
	onProgress?: (received: number, total: number | undefined) => void,
): Promise<void> {
	const res = await apiFetch(filePath(runId, path));
	const total = res.headers.get("content-length");
	const size = total === null ? undefined : Number(total);
	const parts: Uint8Array<ArrayBuffer>[] = [];
	let received = 0;
	if (res.body) {
		const reader = res.body.getReader();
		for (;;) {
			const { done, value } = await reader.read();
			if (done) break;
			parts.push(value);
			received += value.byteLength;
			onProgress?.(received, size);
		}
	}
	const disposition = res.headers.get("content-disposition") ?? "";
	const utf8 = /filename\*=UTF-8''([^;]+)/i.exec(disposition)?.[1];
	const plain = /filename="([^"]*)"/i.exec(disposition)?.[1];
	// The server names the file by its workspace path (`results/out.txt`, as REANA does); a browser saves a base name.
	const named = utf8 ? decodeURIComponent(utf8) : (plain ?? path);
	const name = named.split("/").pop() || "download";
	saveBlob(new Blob(parts, { type: res.headers.get("content-type") ?? "" }), name);
}

/**
 * Saves a run's provenance, an RO-Crate metadata document (docs/provenance.md), as
 * `<run>-ro-crate-metadata.json`. The server hashes the run's files for it, which can take a while.
 */
export async function downloadProvenance(runId: string, runName: string): Promise<void> {
	const crate = await apiCall("get_workflow_provenance", { params: { workflow_id_or_name: runId } });
	const blob = new Blob([JSON.stringify(crate, null, 2)], { type: "application/ld+json" });
	saveBlob(blob, `${runName}-ro-crate-metadata.json`);
}

/** Hands a blob to the browser as a download named `name`. */
function saveBlob(blob: Blob, name: string): void {
	const url = URL.createObjectURL(blob);
	const a = document.createElement("a");
	a.href = url;
	a.download = name;
	a.rel = "noopener";
	document.body.append(a);
	a.click();
	a.remove();
	setTimeout(() => URL.revokeObjectURL(url), 60_000);
}
