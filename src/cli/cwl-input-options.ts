import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { AppError } from "../common/index.js";
import type { CwlProcess, CwlType } from "../spec/index.js";

/**
 * A process's inputs given as options after the document, as cwltool takes them:
 * `--name value` or `--name=value`; `--flag` for a boolean (`--flag=false` to say no); an array by
 * repeating its option; a File or Directory by its path (relative to `cwd`). They override the
 * input object's values. Records and types defined elsewhere need the input object.
 */
export function parseInputOptions(
	process: CwlProcess,
	words: readonly string[],
	cwd: string,
	runner?: RunnerFlags,
): Record<string, unknown> {
	const inputs = new Map(process.inputs.map((p) => [p.id, p.type]));
	const names = [...inputs.keys()].join(", ") || "none";
	const values: Record<string, unknown> = {};
	for (let i = 0; i < words.length; i++) {
		const word = words[i] as string;
		const eq = word.indexOf("=");
		const flag = eq < 0 ? word : word.slice(0, eq);
		// The runner's own options may follow the document too, unless the process has an input of that name.
		const runnerArity = runner?.arity(flag);
		if (runnerArity !== undefined && !inputs.has(flag.replace(/^--/, ""))) {
			if (eq < 0) i = skipValues(words, i, runnerArity);
			continue;
		}
		if (!word.startsWith("--") || word === "--") {
			throw usage(`unexpected argument '${word}': inputs are given as --name value (inputs: ${names})`);
		}
		const name = flag.slice(2);
		const type = inputs.get(name);
		if (type === undefined) throw usage(`the process has no input '${name}' (inputs: ${names})`);
		const { item, isArray } = optionType(name, type);
		let text: string | undefined = eq < 0 ? undefined : word.slice(eq + 1);
		if (text === undefined && item !== "boolean") {
			const next = words[i + 1];
			if (next === undefined || (next.startsWith("--") && next !== "--")) throw usage(`--${name} needs a value`);
			text = next;
			i++;
		}
		const value = convert(name, item, text, cwd);
		if (isArray) values[name] = [...((values[name] as unknown[] | undefined) ?? []), value];
		else if (name in values) throw usage(`--${name} is given twice; it takes one value`);
		else values[name] = value;
	}
	return values;
}

/** The runner's own options, to tell them from the process's inputs after the document. */
export interface RunnerFlags {
	/**
	 * How many words a runner option takes after itself: 0 for a flag, 1, or "many" (all up to the next
	 * option, like `-p a=1 b=2`); undefined when it is not one.
	 */
	arity(flag: string): number | "many" | undefined;
}

/** The index of the last word an option at `i` takes. */
function skipValues(words: readonly string[], i: number, arity: number | "many"): number {
	if (arity !== "many") return i + arity;
	let last = i;
	while (last + 1 < words.length && !(words[last + 1] as string).startsWith("-")) last++;
	return last;
}

/**
 * Splits what follows `cwl-runner` on its command line: the runner's options before the document (by
 * their flags), the document, the input object if one follows, and the rest (the process's inputs, and
 * runner options given after the document).
 */
export function splitAtDocument(
	words: readonly string[],
	runner: RunnerFlags,
): { before: Map<string, string | true>; document?: string; job?: string; rest: string[] } {
	const before = new Map<string, string | true>();
	let i = 0;
	for (; i < words.length; i++) {
		const word = words[i] as string;
		if (!word.startsWith("-") || word === "-") break;
		const eq = word.indexOf("=");
		const flag = eq < 0 ? word : word.slice(0, eq);
		const arity = runner.arity(flag);
		if (arity === undefined) throw usage(`unknown option '${flag}' before the document`);
		before.set(flag, eq >= 0 ? word.slice(eq + 1) : arity !== 0 ? (words[i + 1] ?? "") : true);
		if (eq < 0) i = skipValues(words, i, arity);
	}
	const document = words[i];
	const rest = words.slice(i + 1);
	const job = rest[0] !== undefined && !rest[0].startsWith("-") ? rest.shift() : undefined;
	return { before, ...(document === undefined ? {} : { document }), ...(job === undefined ? {} : { job }), rest };
}

/**
 * `-p name=value` pairs for a CWL process, each converted by its input's type as an option's value is
 * (`-p max_mag=8` gives a float input 8, `-p reads=a.fq` a File array of one); a pair naming no input,
 * or an input of a type options cannot give, keeps its text.
 */
export function parameterValues(
	process: CwlProcess,
	pairs: Readonly<Record<string, string>>,
	cwd: string,
): Record<string, unknown> {
	const types = new Map(process.inputs.map((p) => [p.id, p.type]));
	const values: Record<string, unknown> = {};
	for (const [name, raw] of Object.entries(pairs)) {
		const type = types.get(name);
		const kind = type === undefined ? undefined : optionTypeOf(type);
		if (!kind) {
			values[name] = raw;
			continue;
		}
		const value = convert(name, kind.item, raw, cwd, `-p ${name}`);
		values[name] = kind.isArray ? [value] : value;
	}
	return values;
}

type ItemType = "boolean" | "int" | "float" | "string" | "File" | "Directory" | { symbols: string[] };

/** What one option's value is: the type of one item, and whether the input collects repeated options. */
function optionType(name: string, type: CwlType): { item: ItemType; isArray: boolean } {
	const kind = optionTypeOf(type);
	if (kind) return kind;
	throw usage(`input '${name}' has a type that cannot be given as an option; put it in an input object (job file)`);
}

function optionTypeOf(type: CwlType): { item: ItemType; isArray: boolean } | undefined {
	const plain = withoutNull(type);
	if (typeof plain === "object" && !Array.isArray(plain) && plain.type === "array") {
		const item = itemType(withoutNull(plain.items));
		return item === undefined ? undefined : { item, isArray: true };
	}
	const item = itemType(plain);
	return item === undefined ? undefined : { item, isArray: false };
}

function withoutNull(type: CwlType): CwlType {
	if (!Array.isArray(type)) return type;
	const rest = type.filter((t) => t !== "null");
	return rest.length === 1 ? (rest[0] as CwlType) : rest;
}

function itemType(type: CwlType): ItemType | undefined {
	if (typeof type === "string") {
		if (type === "boolean" || type === "string" || type === "File" || type === "Directory") return type;
		if (type === "int" || type === "long") return "int";
		if (type === "float" || type === "double") return "float";
		return undefined;
	}
	if (!Array.isArray(type) && type.type === "enum") return { symbols: type.symbols.map(shortSymbol) };
	return undefined;
}

/** An enum symbol without the document and type its identifier may carry (`file:///t.cwl#e/a` → `a`). */
function shortSymbol(symbol: string): string {
	return symbol.slice(Math.max(symbol.lastIndexOf("#"), symbol.lastIndexOf("/")) + 1);
}

function convert(name: string, item: ItemType, text: string | undefined, cwd: string, label = `--${name}`): unknown {
	if (item === "boolean") {
		if (text === undefined || text === "true") return true;
		if (text === "false") return false;
		throw usage(
			label === `--${name}`
				? `--${name} is a flag: give it alone, or as --${name}=true or --${name}=false`
				: `${label} takes true or false, not '${text}'`,
		);
	}
	const value = text as string;
	if (item === "int") {
		if (!/^[-+]?\d+$/.test(value)) throw usage(`${label} takes a whole number, not '${value}'`);
		return Number(value);
	}
	if (item === "float") {
		const n = Number(value);
		if (value.trim() === "" || !Number.isFinite(n)) throw usage(`${label} takes a number, not '${value}'`);
		return n;
	}
	if (item === "File" || item === "Directory")
		return { class: item, location: pathToFileURL(resolve(cwd, value)).href };
	if (typeof item === "object" && !item.symbols.includes(value)) {
		throw usage(`${label} takes one of ${item.symbols.join(", ")}, not '${value}'`);
	}
	return value;
}

function usage(message: string): AppError {
	return new AppError("validation_failed", message, { details: { usage: true } });
}
