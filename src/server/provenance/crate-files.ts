import { realpath } from "node:fs/promises";
import { isAppError } from "../../common/index.js";
import type { RoCrateEntity } from "../../contract/index.js";
import {
	digestWorkspaceFile,
	globMatcherOf,
	isGlob,
	normaliseUserPath,
	type WorkspaceFileDigest,
	walkFiles,
} from "../../storage/index.js";

/**
 * The most file entities one export describes. A workspace may hold millions of files; the files past
 * this many are counted (with their bytes) but neither listed nor hashed.
 */
export const maxFileEntities = 10_000;
/** The most bytes one export hashes; larger files past it are listed with size and date, without sha256. */
export const maxHashedBytes = 8 * 1024 ** 3;
/** The most entries one export walks in declared folders; past it, the count is a lower bound. */
export const maxWalkedEntries = 1_000_000;

/** Options of the file entities of one export. */
export interface CrateFilesOptions {
	workspace: string;
	/** When the run ended: a file modified after it is marked (it is not what the run left). */
	runEndedAt?: Date;
	signal: AbortSignal;
}

/** What an export left out to stay within its limits. */
export interface OmittedFiles {
	/** Files counted but not listed. */
	files: number;
	bytes: number;
	/** Files listed without sha256 (over the hashing budget). */
	unhashed: number;
	/** True when a folder had more entries than the walk limit: the counts are lower bounds. */
	isWalkCut: boolean;
}

/** The data entities (files and folders) of an export, built under its limits. */
export interface CrateFiles {
	/**
	 * Adds a file entity (once per path) and returns its `@id`; `extra` properties are merged into it.
	 * `isWalked`: the path came from walking the workspace (see `digestWorkspaceFile`).
	 */
	file(path: string, extra?: Record<string, unknown>, isWalked?: boolean): Promise<string | undefined>;
	/** The entities of a declared path: a file, a folder (a Dataset with its files) or a glob's matches. */
	declared(path: string): Promise<string[]>;
	/** Reads a workspace file (within the hashing budget); undefined when the path is unsafe. */
	digest(path: string, isWalked?: boolean): Promise<WorkspaceFileDigest | undefined>;
	readonly entities: Map<string, RoCrateEntity>;
	readonly omitted: OmittedFiles;
}

/** An `@id` for a workspace path: a relative URI (`results/my plot.png` → `results/my%20plot.png`). */
export function idOfPath(path: string, isDirectory = false): string {
	const encoded = path
		.split("/")
		.map((s) => encodeURIComponent(s))
		.join("/");
	return isDirectory ? `${encoded}/` : encoded;
}

const refusals: Record<string, string> = {
	missing: "not in the workspace at export time",
	link: "a symbolic link: not followed, not read",
	not_regular: "not a regular file (a FIFO, socket or device): not read",
	outside: "leads outside the workspace (a symbolic link): not followed, not read",
};

/** The file entities of one export, with their limits (`maxFileEntities`, `maxHashedBytes`, `maxWalkedEntries`). */
export function crateFiles(options: CrateFilesOptions): CrateFiles {
	const entities = new Map<string, RoCrateEntity>();
	const omitted: OmittedFiles = { files: 0, bytes: 0, unhashed: 0, isWalkCut: false };
	let listed = 0;
	let hashBudget = maxHashedBytes;
	const ended = options.runEndedAt?.getTime();

	const checkAborted = () => {
		if (options.signal.aborted) throw options.signal.reason;
	};

	let realRoot: Promise<string> | undefined;
	const digest = async (path: string, isWalked = false): Promise<WorkspaceFileDigest | undefined> => {
		checkAborted();
		realRoot ??= realpath(options.workspace);
		try {
			return await digestWorkspaceFile(options.workspace, path, {
				realRoot: await realRoot,
				isWalked,
				shouldHash: (size) => {
					if (size > hashBudget) return false;
					hashBudget -= size;
					return true;
				},
			});
		} catch (error) {
			// A path no user could name (`..`, Orrery's own folder) is not described at all.
			if (isAppError(error) && error.code === "validation_failed") return undefined;
			throw error;
		}
	};

	const file = async (
		path: string,
		extra: Record<string, unknown> = {},
		isWalked = false,
	): Promise<string | undefined> => {
		const id = idOfPath(path);
		const known = entities.get(id);
		if (known) {
			Object.assign(known, extra);
			return id;
		}
		const d = await digest(path, isWalked);
		if (!d) return undefined;
		listed++;
		const entity: RoCrateEntity = { "@id": id, "@type": "File", name: path };
		if (d.kind === "refused") entity.description = refusals[d.reason] ?? "not read";
		else {
			entity.contentSize = String(d.size);
			entity.dateModified = d.modified.toISOString();
			if (d.sha256) entity.sha256 = d.sha256;
			else {
				omitted.unhashed++;
				entity.description = `not hashed: the export hashes at most ${maxHashedBytes / 1024 ** 3} GiB`;
			}
			if (ended !== undefined && d.modified.getTime() > ended)
				entity.description = [entity.description, "modified after the run ended: not necessarily what the run left"]
					.filter(Boolean)
					.join("; ");
		}
		entities.set(id, Object.assign(entity, extra));
		return id;
	};

	/** The files below a folder (sorted, links listed but never followed), up to the limits. */
	const folder = async (path: string): Promise<string> => {
		const id = idOfPath(path, true);
		const names: Array<{ name: string; size: number; isLink: boolean }> = [];
		let walked = 0;
		try {
			for await (const e of walkFiles(options.workspace, path, false, true)) {
				if (++walked > maxWalkedEntries) {
					omitted.isWalkCut = true;
					break;
				}
				names.push({ name: e.name, size: e.size, isLink: e.isLink === true });
			}
		} catch (error) {
			// A folder that leads out of the workspace is described as such, never walked.
			if (!isAppError(error)) throw error;
			entities.set(id, { "@id": id, "@type": "Dataset", name: path, description: refusals.outside });
			return id;
		}
		names.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
		const parts: Array<{ "@id": string }> = [];
		for (const n of names) {
			if (listed >= maxFileEntities) {
				omitted.files++;
				omitted.bytes += n.size;
				continue;
			}
			let partId: string | undefined;
			if (n.isLink) {
				partId = idOfPath(n.name);
				listed++;
				entities.set(partId, { "@id": partId, "@type": "File", name: n.name, description: refusals.link });
			} else partId = await file(n.name, {}, true);
			if (partId) parts.push({ "@id": partId });
		}
		const entity: RoCrateEntity = { "@id": id, "@type": "Dataset", name: path, hasPart: parts };
		if (parts.length < names.length)
			entity.description = `${names.length - parts.length} of its ${names.length}${omitted.isWalkCut ? "+" : ""} files are not listed: the export lists at most ${maxFileEntities} files`;
		entities.set(id, entity);
		return id;
	};

	const declared = async (raw: string): Promise<string[]> => {
		let clean: string;
		try {
			clean = normaliseUserPath(raw);
		} catch {
			return [];
		}
		if (!clean) return [];
		if (isGlob(clean)) {
			const matches = globMatcherOf(clean);
			const names: string[] = [];
			let walked = 0;
			for await (const e of walkFiles(options.workspace)) {
				if (++walked > maxWalkedEntries) {
					omitted.isWalkCut = true;
					break;
				}
				if (matches(e.name)) names.push(e.name);
			}
			const ids: string[] = [];
			for (const name of names.sort()) {
				if (listed >= maxFileEntities) {
					omitted.files++;
					continue;
				}
				const id = await file(name, {}, true);
				if (id) ids.push(id);
			}
			return ids;
		}
		checkAborted();
		// A folder is a Dataset of its files: opened without reading, a folder is "not regular".
		const probe = await digestWorkspaceFile(options.workspace, clean, { shouldHash: () => false }).catch(
			() => undefined,
		);
		if (probe?.kind === "refused" && probe.reason === "not_regular") return [await folder(clean)];
		if (listed >= maxFileEntities && !entities.has(idOfPath(clean))) {
			omitted.files++;
			return [];
		}
		const id = await file(clean);
		return id ? [id] : [];
	};

	return { file, declared, digest, entities, omitted };
}
