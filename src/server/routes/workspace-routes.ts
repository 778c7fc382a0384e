import type { FastifyInstance } from "fastify";
import { AppError } from "../../common/index.js";
import { toReanaTime } from "../../contract/index.js";
import { runName } from "../../scheduler/index.js";
import {
	deleteFiles,
	listFiles,
	readStream,
	resolveDownload,
	writeFileFromStream,
	zipStream,
} from "../../storage/index.js";
import { humanSize } from "../human-size.js";
import { handle } from "../route-kit.js";
import { matchesEveryField, parseSearch } from "../search-filter.js";
import type { ServerContext } from "../server-context.js";
import { runFor } from "./workflow-routes.js";

/** Content types worth naming on download; everything else is octet-stream. */
const contentTypes: Record<string, string> = {
	txt: "text/plain; charset=utf-8",
	log: "text/plain; charset=utf-8",
	csv: "text/csv; charset=utf-8",
	json: "application/json",
	yaml: "text/yaml; charset=utf-8",
	yml: "text/yaml; charset=utf-8",
	png: "image/png",
	jpg: "image/jpeg",
	jpeg: "image/jpeg",
	gif: "image/gif",
	svg: "image/svg+xml",
	pdf: "application/pdf",
	html: "text/html; charset=utf-8",
	fits: "application/fits",
};

function contentTypeFor(path: string): string {
	const ext = (path.split("/").pop() ?? "").split(".").pop()?.toLowerCase() ?? "";
	return contentTypes[ext] ?? "application/octet-stream";
}

/**
 * RFC 6266 Content-Disposition with an ASCII fallback and the UTF-8 name. The name is a workspace
 * path (`results/out.txt`), as REANA sends it: reana-client saves the file under that path in its
 * output folder.
 */
function attachment(name: string): string {
	// The fallback drops accents as Werkzeug's does (Python's email parser, which reana-client uses, reads it first).
	const ascii = name
		.normalize("NFKD")
		.replace(/[\u0300-\u036f]/g, "")
		.replace(/[^\x20-\x7e]|["\\]/g, "_");
	// RFC 5987 leaves ' ( ) * out of a value's characters; encodeURIComponent keeps them.
	const encoded = encodeURIComponent(name).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
	return `attachment; filename="${ascii}"; filename*=UTF-8''${encoded}`;
}

/** Routes for a run's workspace files: list, upload, download, delete. */
export function workspaceRoutes(app: FastifyInstance, ctx: ServerContext): void {
	handle(app, "get_files", async ({ principal, params, query }) => {
		const wf = await runFor(ctx, principal, params.workflow_id_or_name, "workflow.read");
		let items = (await listFiles(wf.workspace_path, query.file_name)).map((f) => ({
			name: f.name,
			size: { raw: f.size, human_readable: humanSize(f.size) },
			"last-modified": toReanaTime(f.modified),
		}));
		const search = parseSearch(query.search, ["name", "size", "last-modified"]);
		if (search?.kind === "text") {
			const needle = search.text.toLowerCase();
			items = items.filter((f) => f.name.toLowerCase().includes(needle));
		} else if (search) {
			items = items.filter((f) =>
				matchesEveryField(search.fields, {
					name: f.name,
					size: String(f.size.raw),
					"last-modified": f["last-modified"],
				}),
			);
		}
		const total = items.length;
		if (query.size) {
			const page = query.page ?? 1;
			items = items.slice((page - 1) * query.size, page * query.size);
		}
		return { items, total };
	});

	handle(app, "upload_file", async ({ principal, params, query, raw }) => {
		const wf = await runFor(ctx, principal, params.workflow_id_or_name, "workflow.write");
		if (wf.status === "deleted") throw new AppError("conflict", "the workflow is deleted");
		const name = query.file_name.replace(/^\/+/, "");
		const { path, size } = await writeFileFromStream(wf.workspace_path, name, raw.raw, {
			maxBytes: ctx.config.maxUploadBytes,
		});
		return { message: `${path} has been successfully uploaded (${humanSize(size)}).` };
	});

	handle(app, "download_file", async ({ principal, params, raw }, reply) => {
		const wf = await runFor(ctx, principal, params.workflow_id_or_name, "workflow.read");
		const source = await resolveDownload(wf.workspace_path, params["*"]);
		if (source.kind === "zip") {
			// REANA's name: download_<run>_<last segment asked for>_<time>.zip.
			const stamp = new Date().toISOString().slice(0, 19).replace("T", "-").replace(/:/g, "");
			const zipName = `download_${runName(wf)}_${source.name}_${stamp}.zip`;
			reply.header("Content-Type", "application/zip").header("Content-Disposition", attachment(zipName));
			return reply.send(zipStream(wf.workspace_path, source.files));
		}
		reply
			.header("Content-Type", contentTypeFor(source.name))
			.header("Content-Disposition", attachment(source.name))
			.header("Accept-Ranges", "bytes")
			.header("Last-Modified", source.stats.mtime.toUTCString());
		// One byte range (`Range: bytes=a-b`, `a-`, `-n`), for resuming downloads and reading ends of files.
		const range = byteRange(raw.headers.range, source.size);
		if (range === "unsatisfiable") {
			reply.header("Content-Range", `bytes */${source.size}`);
			throw new AppError("range_not_satisfiable", `the requested range is outside the file (${source.size} bytes)`);
		}
		if (range) {
			reply
				.status(206)
				.header("Content-Range", `bytes ${range.start}-${range.end}/${source.size}`)
				.header("Content-Length", String(range.end - range.start + 1));
			return reply.send(readStream(source, range));
		}
		reply.header("Content-Length", String(source.size));
		return reply.send(readStream(source));
	});

	handle(app, "delete_file", async ({ principal, params }) => {
		const wf = await runFor(ctx, principal, params.workflow_id_or_name, "workflow.write");
		// Nothing matched is a 200 with both maps empty, as in REANA: reana-client then says that the
		// name "did not match any existing file" (a 404 made it report a failure of its own).
		return deleteFiles(wf.workspace_path, params["*"]);
	});
}

/** The single byte range a Range header asks for, clamped to the file; undefined for the whole file. */
export function byteRange(
	header: string | undefined,
	size: number,
): { start: number; end: number } | "unsatisfiable" | undefined {
	const m = /^bytes=(\d*)-(\d*)$/.exec(header?.trim() ?? "");
	if (!m || (m[1] === "" && m[2] === "")) return undefined;
	let start: number;
	let end: number;
	if (m[1] === "") {
		start = Math.max(0, size - Number(m[2]));
		end = size - 1;
	} else {
		start = Number(m[1]);
		end = m[2] === "" ? size - 1 : Math.min(Number(m[2]), size - 1);
	}
	if (start >= size || start > end) return "unsatisfiable";
	return { start, end };
}
