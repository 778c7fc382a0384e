import { createHash } from "node:crypto";
import { AppError } from "../../common/index.js";
import { type RemoteUrlScheme, remoteUrlSchemes } from "../../contract/index.js";

/** A remote location parsed once: where the bytes are and whether it names a folder (prefix). */
export interface RemoteLocation {
	/** The URL as written. */
	url: string;
	scheme: RemoteUrlScheme;
	/** The bucket (s3) or the host, with its port when it has one (http, WebDAV); empty for file://. */
	host: string;
	/** The object key (s3, no leading slash) or the decoded path (http, WebDAV, file, with a leading slash). */
	path: string;
	/** True when the URL ends with `/`: everything below it. */
	isFolder: boolean;
}

const schemeList = remoteUrlSchemes.map((s) => `${s}://`).join(", ");

/** The folder of a workspace that holds remote CWL inputs, by URL (see `stagedPathOf`). */
export const stagedFolder = ".staged";

/** Parses a remote URL; unsupported schemes and malformed URLs are user errors. */
export function parseRemoteUrl(raw: string): RemoteLocation {
	let url: URL;
	try {
		url = new URL(raw);
	} catch {
		throw new AppError(
			"validation_failed",
			`'${raw}' is not a URL; write e.g. s3://bucket/key (supported: ${schemeList})`,
		);
	}
	const scheme = url.protocol.slice(0, -1);
	if (!(remoteUrlSchemes as readonly string[]).includes(scheme)) {
		throw new AppError(
			"validation_failed",
			`unsupported URL scheme '${scheme}://' in ${raw}; supported: ${schemeList}`,
		);
	}
	if (url.username || url.password) {
		throw new AppError("validation_failed", `${scheme}:// URLs must not carry credentials; store them as secrets`);
	}
	if (scheme !== "file" && !url.hostname) {
		throw new AppError("validation_failed", `${raw} has no ${scheme === "s3" ? "bucket" : "host"}`);
	}
	const decoded = decodeURIComponent(url.pathname);
	return {
		url: raw,
		scheme: scheme as RemoteUrlScheme,
		host: scheme === "s3" ? url.hostname : url.host,
		path: scheme === "s3" ? decoded.replace(/^\/+/, "") : decoded || "/",
		isFolder: raw.endsWith("/"),
	};
}

/** True for a location this server can stage (not `file:` and not a relative path). */
export function isRemoteLocation(uri: string): boolean {
	return /^(s3|https?|davs?):\/\//i.test(uri);
}

/**
 * Where a remote CWL File or Directory is staged in the workspace: `.staged/<scheme>/<bucket or host>/<path>`.
 * A pure function of the URL, so the engine and the scheduler agree without talking. A query string
 * gets a short hash so that two URLs differing only there do not collide.
 */
export function stagedPathOf(uri: string): string {
	const url = new URL(uri);
	const scheme = url.protocol.slice(0, -1).toLowerCase();
	const host = (scheme === "s3" ? url.hostname : url.host).replace(/[^A-Za-z0-9._-]/g, "_");
	const parts = decodeURIComponent(url.pathname)
		.split("/")
		.filter((p) => p !== "")
		.map((p) => (p === "." || p === ".." ? "_" : p.replace(/\0/g, "_")));
	if (url.search) {
		const tag = createHash("sha256").update(url.search).digest("hex").slice(0, 8);
		const last = parts.pop() ?? "index";
		parts.push(`${last}-${tag}`);
	}
	if (parts.length === 0) parts.push(scheme === "s3" ? "bucket" : "index");
	return [stagedFolder, scheme, host || "_", ...parts].join("/");
}

/** The last name of a location (`s3://b/a/x.fits` → `x.fits`; `s3://b/dir/` → `dir`; `s3://b/` → `b`). */
export function lastNameOf(loc: RemoteLocation): string {
	const parts = loc.path.split("/").filter(Boolean);
	return parts.at(-1) ?? loc.host;
}

/** Joins a folder URL and a relative name (each segment encoded). */
export function childUrl(folderUrl: string, relative: string): string {
	const base = folderUrl.endsWith("/") ? folderUrl : `${folderUrl}/`;
	return base + relative.split("/").map(encodeURIComponent).join("/");
}
