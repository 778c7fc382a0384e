import type { CwlBinding, CwlCommandLineTool, CwlType } from "../../spec/index.js";
import { type ExpressionScope, evaluate, formatNumber } from "./expression-evaluator.js";
import { isFileOrDirectory } from "./file-values.js";
import { CwlRunError } from "./run-environment.js";
import { branchOf } from "./value-types.js";

/** One word of a command line and whether a shell may see it unquoted (ShellCommandRequirement). */
export interface CommandWord {
	text: string;
	isQuoted: boolean;
}

type SortKey = Array<number | string>;

interface Binding {
	key: SortKey;
	binding: CwlBinding;
	value: unknown;
	type: CwlType | undefined;
	/** A value from `arguments` (valueFrom sees self = null). */
	isArgument: boolean;
}

/** Builds the command line of a tool invocation: baseCommand, then `arguments` and bound inputs sorted by position. */
export function buildCommandLine(
	tool: CwlCommandLineTool,
	inputs: Record<string, unknown>,
	scope: Omit<ExpressionScope, "self" | "where">,
	where: (field: string) => string,
): CommandWord[] {
	const bindings: Binding[] = [];
	tool.arguments.forEach((arg, i) => {
		if (typeof arg === "string") {
			bindings.push({ key: [0, i], binding: { valueFrom: arg }, value: null, type: undefined, isArgument: true });
			return;
		}
		const pos = position(arg.position, null, scope, where(`arguments[${i}].position`));
		bindings.push({ key: [pos, i], binding: arg, value: null, type: undefined, isArgument: true });
	});
	for (const p of tool.inputs) {
		collect(bindings, p.type, inputs[p.id] ?? null, p.inputBinding, [], p.id, scope, where(`inputs.${p.id}`));
	}
	bindings.sort((a, b) => compareKeys(a.key, b.key));
	const words: CommandWord[] = tool.baseCommand.map((text) => ({ text, isQuoted: true }));
	for (const b of bindings) words.push(...wordsOf(b, scope, where));
	return words;
}

function position(
	raw: number | string | undefined,
	self: unknown,
	scope: Omit<ExpressionScope, "self" | "where">,
	where: string,
): number {
	if (raw === undefined) return 0;
	if (typeof raw === "number") return raw;
	const v = evaluate(raw, { ...scope, self, where });
	const n = typeof v === "number" ? v : Number(v);
	if (!Number.isFinite(n)) throw new CwlRunError(`${where}: position must be a number, got ${JSON.stringify(v)}`);
	return n;
}

/** Adds the bindings of one value: its own, and those of its record fields or array items. */
function collect(
	out: Binding[],
	type: CwlType,
	value: unknown,
	binding: CwlBinding | undefined,
	parentKey: SortKey,
	name: string | number,
	scope: Omit<ExpressionScope, "self" | "where">,
	where: string,
): void {
	const t = branchOf(type, value) ?? (Array.isArray(type) ? undefined : type);
	// Parts of a value without a binding of its own sort among the bindings around it.
	const ownKey = binding
		? [...parentKey, position(binding.position, value, scope, `${where}.inputBinding.position`), name]
		: parentKey;
	if (binding) out.push({ key: ownKey, binding, value, type: t, isArgument: false });
	if (t === undefined || typeof t !== "object" || Array.isArray(t) || value === null || value === undefined) return;
	// With valueFrom, the value's own parts are not bound separately.
	if (binding?.valueFrom !== undefined) return;
	if (t.type === "enum" && t.inputBinding) collect(out, "Any", value, t.inputBinding, ownKey, "", scope, where);
	if (t.type === "record" && typeof value === "object") {
		if (t.inputBinding)
			out.push({
				key: [...ownKey, position(t.inputBinding.position, value, scope, where), ""],
				binding: t.inputBinding,
				value,
				type: t,
				isArgument: false,
			});
		for (const f of t.fields) {
			collect(
				out,
				f.type,
				(value as Record<string, unknown>)[f.name] ?? null,
				f.inputBinding,
				ownKey,
				f.name,
				scope,
				`${where}.${f.name}`,
			);
		}
	}
	if (t.type === "array" && Array.isArray(value)) {
		// Items take the array schema's inputBinding; under a binding of the whole list they are plain words.
		const itemBinding = t.inputBinding ?? (binding && binding.itemSeparator === undefined ? {} : undefined);
		value.forEach((v, i) => {
			collect(out, t.items, v, itemBinding, ownKey, i, scope, `${where}[${i}]`);
		});
	}
}

/** Python-2-like ordering of mixed keys: numbers before strings, then element by element. */
function compareKeys(a: SortKey, b: SortKey): number {
	for (let i = 0; i < Math.min(a.length, b.length); i++) {
		const x = a[i] as number | string;
		const y = b[i] as number | string;
		if (x === y) continue;
		if (typeof x === "number" && typeof y === "number") return x - y;
		if (typeof x === "number") return -1;
		if (typeof y === "number") return 1;
		return x < y ? -1 : 1;
	}
	return a.length - b.length;
}

function wordsOf(
	b: Binding,
	scope: Omit<ExpressionScope, "self" | "where">,
	where: (field: string) => string,
): CommandWord[] {
	let value = b.value;
	const isQuoted = b.binding.shellQuote !== false;
	// A null input adds nothing, and its valueFrom is not evaluated.
	if (!b.isArgument && (value === null || value === undefined)) return [];
	if (b.binding.valueFrom !== undefined) {
		value = evaluate(b.binding.valueFrom, {
			...scope,
			self: b.isArgument ? null : value,
			where: where(b.isArgument ? "arguments" : `inputBinding.valueFrom of ${b.key.slice(1).join(".")}`),
		});
	}
	const prefix = b.binding.prefix;
	const separate = b.binding.separate !== false;
	const join = (text: string): CommandWord[] => {
		if (prefix === undefined) return [{ text, isQuoted }];
		return separate
			? [
					{ text: prefix, isQuoted },
					{ text, isQuoted },
				]
			: [{ text: prefix + text, isQuoted }];
	};
	if (value === null || value === undefined) return [];
	if (typeof value === "boolean") return value && prefix !== undefined ? [{ text: prefix, isQuoted }] : [];
	if (Array.isArray(value)) {
		if (value.length === 0) return [];
		if (b.binding.itemSeparator !== undefined) return join(value.map(scalarText).join(b.binding.itemSeparator));
		const items = b.binding.valueFrom !== undefined ? value.map((v) => ({ text: scalarText(v), isQuoted })) : [];
		return prefix === undefined ? items : [{ text: prefix, isQuoted }, ...items];
	}
	if (typeof value === "object" && !isFileOrDirectory(value)) {
		return prefix === undefined ? [] : [{ text: prefix, isQuoted }];
	}
	return join(scalarText(value));
}

function scalarText(value: unknown): string {
	if (isFileOrDirectory(value)) return String(value.path ?? value.location ?? "");
	if (typeof value === "number") return formatNumber(value);
	if (typeof value === "string") return value;
	return JSON.stringify(value);
}
