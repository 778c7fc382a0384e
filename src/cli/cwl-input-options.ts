import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { AppError } from "../common/index.js";
import {
	type CwlProcess,
	type CwlType,
	type TextItemType,
	textTypeOf,
	typedTextValues,
	valueOfText,
} from "../spec/index.js";

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
	return typedTextValues(process.inputs, pairs, { labelOf: (name) => `-p ${name}`, locate: fileAt(cwd), fail: usage });
}

/** What one option's value is: the type of one item, and whether the input collects repeated options. */
function optionType(name: string, type: CwlType): { item: TextItemType; isArray: boolean } {
	const kind = textTypeOf(type);
	if (kind) return kind;
	throw usage(`input '${name}' has a type that cannot be given as an option; put it in an input object (job file)`);
}

function fileAt(cwd: string): (path: string) => string {
	return (path) => pathToFileURL(resolve(cwd, path)).href;
}

function convert(name: string, item: TextItemType, text: string | undefined, cwd: string): unknown {
	if (item === "boolean" && text === undefined) return true;
	if (item === "boolean" && text !== "true" && text !== "false")
		throw usage(`--${name} is a flag: give it alone, or as --${name}=true or --${name}=false`);
	return valueOfText(item, text as string, { label: `--${name}`, locate: fileAt(cwd), fail: usage });
}

function usage(message: string): AppError {
	return new AppError("validation_failed", message, { details: { usage: true } });
}
