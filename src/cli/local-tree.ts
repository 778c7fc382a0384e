import { createHash } from "node:crypto";
import { createReadStream, lstatSync, readdirSync, readFileSync } from "node:fs";
import { lstat } from "node:fs/promises";
import { dirname, isAbsolute, join, relative, resolve, sep } from "node:path";
import ignore, { type Ignore } from "ignore";
import { AppError } from "../common/index.js";

/** A local file to upload, with its name in the workspace. */
export interface LocalFile {
	local: string;
	remote: string;
	size: number;
	mtimeMs: number;
}

/** The ignore files honoured when a folder is uploaded, in every folder from the base down. */
export const ignoreFileNames = [".gitignore", ".orreryignore", ".reanaignore"] as const;

/** The ignore rules in force in one folder: each holder folder with its rules, outermost first. */
type RuleChain = ReadonlyArray<{ base: string; rules: Ignore }>;

/** Reads the ignore files of one folder (synchronously: the CLI walks thousands of folders). */
function rulesIn(dir: string): Ignore | undefined {
	let ig: Ignore | undefined;
	for (const name of ignoreFileNames) {
		let text: string | undefined;
		try {
			text = readFileSync(join(dir, name), "utf8");
		} catch {
			continue;
		}
		ig = (ig ?? ignore()).add(text);
	}
	return ig;
}

/** Git's rule over a chain: each folder's rules test the path relative to it, the deepest deciding last. */
function isIgnoredBy(chain: RuleChain, path: string, isDirectory: boolean): boolean {
	let ignored = false;
	for (const { base, rules } of chain) {
		const r = rules.test(relative(base, path).split(sep).join("/") + (isDirectory ? "/" : ""));
		if (r.ignored) ignored = true;
		else if (r.unignored) ignored = false;
	}
	return ignored;
}

/** True when a relative path leaves its base (`..`, `../x`); a name like `..data` stays inside. */
function isOutside(rel: string): boolean {
	return rel === ".." || rel.startsWith("../") || rel.startsWith(`..${sep}`) || isAbsolute(rel);
}

/** Reads and caches the ignore rules of folders, for checking single paths below a base. */
export class IgnoreRules {
	private readonly cache = new Map<string, RuleChain>();

	constructor(private readonly base: string) {}

	/** The rules in force in a folder at or below the base. */
	chainOf(dir: string): RuleChain {
		const hit = this.cache.get(dir);
		if (hit) return hit;
		const parent = dir === this.base || isOutside(relative(this.base, dir)) ? [] : this.chainOf(dirname(dir));
		const own = rulesIn(dir);
		const chain = own ? [...parent, { base: dir, rules: own }] : parent;
		this.cache.set(dir, chain);
		return chain;
	}

	/** True when a path (absolute, below the base) is ignored by the rules of its folders; `.git/` always is. */
	async isIgnored(path: string, isDirectory: boolean): Promise<boolean> {
		const rel = relative(this.base, path);
		if (rel === "" || isOutside(rel)) return false;
		if (rel.split(sep).includes(".git")) return true;
		return isIgnoredBy(this.chainOf(dirname(path)), path, isDirectory);
	}
}

/** Options for collecting local files. */
export interface LocalTreeOptions {
	/** Workspace names are relative to this folder (default: the current folder). */
	base?: string;
	/** Honour .gitignore, .orreryignore and .reanaignore (default true). */
	useIgnoreFiles?: boolean;
}

/**
 * The files under local paths with their workspace names. Folders are walked (symlinks are not
 * followed), skipping what the ignore files exclude; a file named explicitly is always taken.
 */
export async function localTree(paths: readonly string[], options: LocalTreeOptions = {}): Promise<LocalFile[]> {
	const base = resolve(options.base ?? process.cwd());
	const rules = options.useIgnoreFiles === false ? undefined : new IgnoreRules(base);
	const out = new Map<string, LocalFile>();
	const remoteOf = (abs: string, given: string) => {
		const rel = relative(base, abs).split(sep).join("/");
		if (isOutside(rel) || rel === "")
			throw new AppError(
				"validation_failed",
				`${given} is outside ${base}; run the command from a folder that contains it`,
				{
					details: { usage: true },
				},
			);
		return rel;
	};
	for (const given of paths) {
		const abs = resolve(base, given);
		const s = await lstat(abs).catch(() => undefined);
		if (!s) throw new AppError("not_found", `${given} does not exist`);
		if (s.isFile()) {
			out.set(remoteOf(abs, given), { local: abs, remote: remoteOf(abs, given), size: s.size, mtimeMs: s.mtimeMs });
			continue;
		}
		if (!s.isDirectory()) continue;
		// Synchronous calls: walking 10,000 files takes tens of milliseconds instead of hundreds.
		const stack = [abs];
		let lastBreak = performance.now();
		while (stack.length > 0) {
			// Every few milliseconds let requests started beside the walk (the remote listing) go out and come back.
			if (performance.now() - lastBreak > 4) {
				await new Promise<void>((resume) => setImmediate(resume));
				lastBreak = performance.now();
			}
			const dir = stack.pop() as string;
			const chain = rules?.chainOf(dir) ?? [];
			for (const e of readdirSync(dir, { withFileTypes: true })) {
				if (!e.isFile() && !e.isDirectory()) continue;
				if (e.name === ".git" && e.isDirectory()) continue;
				const p = join(dir, e.name);
				if (chain.length > 0 && isIgnoredBy(chain, p, e.isDirectory())) continue;
				if (e.isDirectory()) stack.push(p);
				else {
					const fs = lstatSync(p);
					const remote = remoteOf(p, given);
					out.set(remote, { local: p, remote, size: fs.size, mtimeMs: fs.mtimeMs });
				}
			}
		}
	}
	return [...out.values()].sort((a, b) => (a.remote < b.remote ? -1 : a.remote > b.remote ? 1 : 0));
}

/** The SHA-256 of a local file, streamed. */
export async function sha256Of(path: string): Promise<string> {
	const hash = createHash("sha256");
	for await (const chunk of createReadStream(path, { highWaterMark: 1024 * 1024 })) hash.update(chunk as Buffer);
	return hash.digest("hex");
}
