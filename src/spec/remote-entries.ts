import type { ReanaSpecification } from "../contract/index.js";
import { remoteUrlSchemes } from "../contract/index.js";
import { formatPath, type Problem } from "./problem.js";
import type { Locator } from "./schema-check.js";

const schemeList = remoteUrlSchemes.map((s) => `${s}://`).join(", ");

/**
 * Checks Orrery's staging extensions of a reana.yaml (`inputs.remote`, `outputs.publish`) without
 * touching the network: supported schemes, well-formed URLs, workspace paths that stay inside.
 */
export function checkRemoteEntries(spec: ReanaSpecification, file: string, locate: Locator): Problem[] {
	const problems: Problem[] = [];
	const add = (
		path: Array<string | number>,
		message: string,
		hint: string,
		severity: Problem["severity"] = "error",
	) => {
		const pos = locate(path);
		problems.push({
			severity,
			file,
			...(pos ? { line: pos.line, column: pos.column } : {}),
			path: formatPath(path),
			message,
			hint,
		});
	};
	const seen = new Map<string, number>();
	(spec.inputs?.remote ?? []).forEach((entry, i) => {
		const at = ["inputs", "remote", i];
		const url = checkUrl(entry.url, [...at, "url"], add, "staged in");
		if (url && (url.pathname === "" || url.pathname === "/") && url.protocol === "s3:" && !entry.url.endsWith("/")) {
			add(
				[...at, "url"],
				`${entry.url} names a bucket but no object`,
				"write s3://bucket/key, or s3://bucket/ for the whole bucket",
			);
		}
		const target = entry.path ?? lastName(entry.url);
		if (!target) {
			add([...at, "path"], `cannot tell where ${entry.url} goes in the workspace`, "add 'path: data/name'");
			return;
		}
		const why = unsafePath(target);
		if (why)
			add(
				[...at, "path"],
				`the path '${target}' is not allowed: ${why}`,
				"give a path inside the workspace, e.g. data/x.fits",
			);
		const clean = target.replace(/^\.\/+/, "").replace(/\/+$/, "");
		const prev = seen.get(clean);
		if (prev !== undefined) {
			add(
				[...at, "path"],
				`inputs.remote[${prev}] and inputs.remote[${i}] both go to '${clean}'`,
				"give each remote input its own path",
			);
		}
		seen.set(clean, i);
		if (entry.sha256 && entry.url.endsWith("/")) {
			add(
				[...at, "sha256"],
				"a checksum cannot apply to a whole folder or prefix",
				"give sha256 on single objects only",
			);
		}
		checkEndpoint(entry.endpoint, [...at, "endpoint"], add);
	});
	(spec.outputs?.publish ?? []).forEach((target, i) => {
		const at = ["outputs", "publish", i];
		const url = checkUrl(target.url, [...at, "url"], add, "published to");
		if (url?.protocol === "file:") {
			add(
				[...at, "url"],
				"outputs cannot be published to a file:// URL",
				"publish to s3://bucket/prefix/ or a WebDAV folder",
			);
		}
		if (url && !(spec.outputs?.files?.length || spec.outputs?.directories?.length) && spec.workflow.type !== "cwl") {
			add(
				at,
				"outputs.publish is set but no outputs are declared",
				"list the files under outputs.files or outputs.directories",
				"warning",
			);
		}
		checkEndpoint(target.endpoint, [...at, "endpoint"], add);
	});
	return problems;
}

type Add = (path: Array<string | number>, message: string, hint: string, severity?: Problem["severity"]) => void;

function checkUrl(raw: string, path: Array<string | number>, add: Add, verb: string): URL | undefined {
	let url: URL;
	try {
		url = new URL(raw);
	} catch {
		add(path, `'${raw}' is not a URL`, `write a full URL such as s3://bucket/key (supported: ${schemeList})`);
		return undefined;
	}
	const scheme = url.protocol.slice(0, -1);
	if (!(remoteUrlSchemes as readonly string[]).includes(scheme)) {
		add(path, `files cannot be ${verb} '${scheme}://' URLs`, `supported schemes: ${schemeList}`);
		return undefined;
	}
	if (url.username || url.password) {
		add(
			path,
			`${url.protocol}// URLs must not carry credentials`,
			"store them as secrets (see docs/data-staging.md) and remove them from the URL",
		);
		return undefined;
	}
	if (scheme !== "file" && !url.hostname) {
		add(
			path,
			`'${raw}' has no ${scheme === "s3" ? "bucket" : "host"}`,
			"write e.g. s3://bucket/key or https://host/path",
		);
		return undefined;
	}
	if (scheme === "http" || scheme === "dav") {
		add(path, `${raw} is not encrypted`, "prefer https:// or davs:// if the server offers it", "warning");
	}
	return url;
}

function checkEndpoint(endpoint: string | undefined, path: Array<string | number>, add: Add): void {
	if (endpoint === undefined || !endpoint.includes(":")) return;
	try {
		const u = new URL(endpoint);
		if (u.protocol !== "https:" && u.protocol !== "http:") throw new Error("scheme");
	} catch {
		add(
			path,
			`the endpoint '${endpoint}' is neither a configured endpoint name nor an http(s):// URL`,
			"write e.g. https://s3.example.org",
		);
	}
}

/** The last name of a URL's path (`s3://b/a/x.fits` → `x.fits`, `s3://b/dir/` → `dir`). */
function lastName(url: string): string | undefined {
	try {
		const parts = decodeURIComponent(new URL(url).pathname).split("/").filter(Boolean);
		return parts.at(-1) ?? (url.startsWith("s3:") ? new URL(url).hostname : undefined);
	} catch {
		return undefined;
	}
}

function unsafePath(path: string): string | undefined {
	if (path.includes("\0")) return "it contains a NUL byte";
	if (path.startsWith("/")) return "absolute paths are not allowed";
	const parts = path.split("/").filter((p) => p !== "" && p !== ".");
	if (parts.includes("..")) return "'..' is not allowed";
	if (parts[0] === ".orrery") return "'.orrery/' is reserved for Orrery's job folders";
	if (parts.length === 0) return "it names the workspace itself";
	return undefined;
}
