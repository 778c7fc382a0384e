import type { Readable } from "node:stream";
import type { RemoteLocation } from "./remote-url.js";

/** One object found at a remote location. */
export interface RemoteEntry {
	/** The object's URL. */
	url: string;
	/** Its path below the listed folder (`""` when the location named the object itself). */
	relative: string;
	size: number | undefined;
	modified: Date | undefined;
	/** The SHA-256 the store keeps for it (S3 metadata, a WebDAV Digest), when it has one. */
	sha256?: string | undefined;
}

/** An opened object: its bytes and what the answer said about them. */
export interface RemoteBody {
	body: Readable;
	size: number | undefined;
	modified: Date | undefined;
}

/**
 * One kind of remote storage (S3, HTTP/WebDAV, a local folder) as staging uses it. Errors are
 * AppErrors a user can act on: not_found, forbidden (with the secret to check), validation_failed,
 * and retryable backend_unavailable for passing failures.
 */
export interface RemoteStore {
	/** What the store can do: `keepsChecksums`, every object it writes carries its SHA-256 (`stat` returns it). */
	readonly capabilities: { readonly keepsChecksums: boolean };
	/** Every object below a folder location, or the one object a location names. */
	list(loc: RemoteLocation, signal: AbortSignal): Promise<RemoteEntry[]>;
	/** Opens an object for reading. */
	open(url: string, signal: AbortSignal): Promise<RemoteBody>;
	/** What a remote object is, or undefined when it does not exist. */
	stat(url: string, signal: AbortSignal): Promise<RemoteEntry | undefined>;
	/**
	 * Writes an object so that readers see it complete or not at all (a temporary name, `partialName`,
	 * then a rename or copy). `owner` goes into the temporary name, so the owner's later publication
	 * can remove what a killed one left behind (`isPartialName`).
	 */
	put(
		url: string,
		body: () => Readable,
		size: number,
		sha256: string,
		signal: AbortSignal,
		owner?: string,
	): Promise<void>;
	/** Deletes an object; one that is not there is no error. */
	remove(url: string, signal: AbortSignal): Promise<void>;
	/** Reads a small object (a manifest) as text; undefined when it does not exist. */
	readText(url: string, signal: AbortSignal): Promise<string | undefined>;
	/** Releases connections. */
	close(): void;
}

const partialPattern = /\.orrery-partial-(?:([0-9a-f]{12})-)?[0-9a-f]{8}$/;

/**
 * The temporary name an object is written under before it takes its own: `<name>.orrery-partial-
 * [<owner>-]<random>`, the owner being the first 12 hex digits of a run's id.
 */
export function partialName(name: string, owner: string | undefined, random: string): string {
	return `${name}.orrery-partial-${owner ? `${ownerTag(owner)}-` : ""}${random.replace(/-/g, "").slice(0, 8)}`;
}

/** Whether a listed name is a temporary object (of `owner` only, when given). */
export function isPartialName(name: string, owner?: string): boolean {
	const m = partialPattern.exec(name);
	if (!m) return false;
	return owner === undefined || m[1] === ownerTag(owner);
}

function ownerTag(owner: string): string {
	return owner.replace(/-/g, "").toLowerCase().slice(0, 12);
}
