import { types } from "node:util";
import { createContext, Script } from "node:vm";
import { AppError } from "../../common/index.js";
import { parseParameterReference, resolveParameterReference, scanExpressions } from "./parameter-reference.js";

/** How long one expression may run before it is stopped (ORRERY_CWL_EXPRESSION_TIMEOUT_MS overrides). */
export const defaultExpressionTimeoutMs = Number(process.env.ORRERY_CWL_EXPRESSION_TIMEOUT_MS) || 30_000;

/** What an expression sees and where it was written (for messages). */
export interface ExpressionScope {
	inputs: unknown;
	self: unknown;
	runtime: unknown;
	/** InlineJavascriptRequirement's expressionLib; undefined when JavaScript is not enabled. */
	javascript?: readonly string[];
	/** `file:line`, the field and what is evaluated, for error messages. */
	where: string;
	timeoutMs?: number;
	/** Keep surrounding whitespace (InitialWorkDir entries); otherwise it is dropped as other runners do. */
	keepsWhitespace?: boolean;
}

/** An expression that failed: names the document, the field and the expression. */
export class ExpressionError extends AppError {
	readonly expression: string;
	constructor(where: string, expression: string, reason: string) {
		super("validation_failed", `${where}: the expression ${clip(expression)} failed: ${reason}`);
		this.name = "ExpressionError";
		this.expression = expression;
	}
}

function clip(text: string): string {
	const one = text.replace(/\s+/g, " ").trim();
	return one.length > 120 ? `${one.slice(0, 117)}...` : one;
}

/**
 * Evaluates a CWL string: a lone `$(…)`/`${…}` yields its value; expressions inside other text are
 * interpolated (objects as JSON). Without JavaScript only parameter references are allowed.
 */
export function evaluate(text: unknown, scope: ExpressionScope): unknown {
	if (typeof text !== "string") return text;
	if (!text.includes("$(") && !text.includes("${")) return text;
	// Like other runners, surrounding whitespace (e.g. a YAML block scalar's newline) is dropped.
	let segments: ReturnType<typeof scanExpressions>;
	try {
		segments = scanExpressions(scope.keepsWhitespace ? text : text.trim());
	} catch (error) {
		throw new ExpressionError(scope.where, text, (error as Error).message);
	}
	const only = segments.length === 1 ? segments[0] : undefined;
	if (only && "expr" in only) return evaluatePart(only.expr.kind, only.expr.code, text, scope);
	let out = "";
	for (const seg of segments) {
		if ("text" in seg) out += seg.text;
		else out += stringify(evaluatePart(seg.expr.kind, seg.expr.code, text, scope));
	}
	return out;
}

/** How an interpolated value is written into a string. */
export function stringify(value: unknown): string {
	if (typeof value === "string") return value;
	if (typeof value === "number") return formatNumber(value);
	if (value === undefined) return "null";
	return pythonJson(value);
}

/** JSON as Python's json.dumps writes it (", " and ": " separators, ASCII only), as other CWL runners do. */
export function pythonJson(value: unknown): string {
	if (value === null || value === undefined) return "null";
	if (typeof value === "number") return Number.isFinite(value) ? formatNumber(value) : "null";
	if (typeof value === "boolean") return String(value);
	if (typeof value === "string")
		return JSON.stringify(value).replace(
			/[\u007f-\uffff]/g,
			(c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
		);
	if (Array.isArray(value)) return `[${value.map(pythonJson).join(", ")}]`;
	if (typeof value === "object") {
		const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined);
		return `{${entries.map(([k, v]) => `${pythonJson(k)}: ${pythonJson(v)}`).join(", ")}}`;
	}
	return "null";
}

/** Numbers as CWL runners print them: never in exponent notation. */
export function formatNumber(n: number): string {
	if (!Number.isFinite(n)) return String(n);
	const s = String(n);
	if (!/e/i.test(s)) return s;
	if (Math.abs(n) >= 1) return BigInt(Math.round(n)).toString();
	const digits = Math.min(100, Math.max(0, -Math.floor(Math.log10(Math.abs(n))) + 15));
	return n.toFixed(digits).replace(/0+$/, "").replace(/\.$/, "");
}

function evaluatePart(kind: "paren" | "brace", code: string, whole: string, scope: ExpressionScope): unknown {
	if (scope.javascript === undefined) {
		if (kind === "brace") {
			throw new ExpressionError(scope.where, whole, "JavaScript expressions need InlineJavascriptRequirement");
		}
		const ref = parseParameterReference(code);
		if (!ref) {
			throw new ExpressionError(
				scope.where,
				whole,
				"this is not a parameter reference (e.g. inputs.name.path); add InlineJavascriptRequirement to use JavaScript",
			);
		}
		try {
			return resolveParameterReference(ref, { inputs: scope.inputs, self: scope.self, runtime: scope.runtime });
		} catch (error) {
			throw new ExpressionError(scope.where, whole, (error as Error).message);
		}
	}
	return runJavaScript(kind === "paren" ? `return (${code});` : code, whole, scope);
}

interface Sandbox {
	context: object;
}

/**
 * One sandbox per loaded expressionLib (`javascriptOf` gives each loaded requirement its own list,
 * an empty one too): documents are loaded per run, never shared, so runs, and so users, never share
 * a context or what an expression leaves in it. It goes when the document does.
 */
const sandboxes = new WeakMap<readonly string[], Sandbox>();

function sandboxFor(lib: readonly string[], scope: ExpressionScope): Sandbox {
	let box = sandboxes.get(lib);
	if (box) return box;
	// Microtasks run within the evaluation and its time limit: a promise cannot carry a loop past it.
	// The names the server writes are plain data that code in there cannot turn into setters (which
	// the server's writes would run, without the time limit).
	const global = Object.create(null) as object;
	for (const name of ["__orrery_in0", "__orrery_in1", "__orrery_in2", "__orrery_error"])
		Object.defineProperty(global, name, { value: undefined, writable: true, configurable: false, enumerable: false });
	const context = createContext(global, {
		codeGeneration: { strings: false, wasm: false },
		microtaskMode: "afterEvaluate",
	});
	for (const code of lib) {
		try {
			new Script(code).runInContext(context, {
				timeout: scope.timeoutMs ?? defaultExpressionTimeoutMs,
				displayErrors: false,
			});
		} catch (error) {
			throw new ExpressionError(scope.where, "expressionLib", reasonOf(error, scope, context));
		}
	}
	box = { context };
	sandboxes.set(lib, box);
	return box;
}

function runJavaScript(body: string, whole: string, scope: ExpressionScope): unknown {
	const box = sandboxFor(scope.javascript ?? [], scope);
	let script = compiled.get(body);
	if (!script) {
		const source = `(function(){var inputs=JSON.parse(__orrery_in0),self=JSON.parse(__orrery_in1),runtime=JSON.parse(__orrery_in2);var __r=(function(){${body}\n})();return JSON.stringify([__r===undefined?null:__r]);})()`;
		try {
			script = new Script(source);
		} catch (error) {
			throw new ExpressionError(scope.where, whole, `syntax error: ${(error as Error).message}`);
		}
		if (compiled.size > 2000) compiled.clear();
		compiled.set(body, script);
	}
	const ctx = box.context as Record<string, unknown>;
	// Strings only: an object made outside the sandbox would lead back to the server's own Function.
	ctx.__orrery_in0 = json(scope.inputs);
	ctx.__orrery_in1 = json(scope.self);
	ctx.__orrery_in2 = json(scope.runtime);
	let result: unknown;
	try {
		result = script.runInContext(box.context, {
			timeout: scope.timeoutMs ?? defaultExpressionTimeoutMs,
			displayErrors: false,
		});
	} catch (error) {
		throw new ExpressionError(scope.where, whole, reasonOf(error, scope, box.context));
	} finally {
		ctx.__orrery_in0 = undefined;
		ctx.__orrery_in1 = undefined;
		ctx.__orrery_in2 = undefined;
	}
	if (typeof result !== "string") return null;
	return (JSON.parse(result) as unknown[])[0] ?? null;
}

/** Compiled expressions, shared: a Script holds code only, and runs in the context it is given. */
const compiled = new Map<string, Script>();

function json(value: unknown): string {
	return JSON.stringify(value === undefined ? null : value);
}

function reasonOf(error: unknown, scope: ExpressionScope, context: object): string {
	// Only own data properties are read here: a getter or a proxy thrown from the sandbox would run
	// its code in the server, without the time limit.
	if (dataProperty(error, "code") === "ERR_SCRIPT_EXECUTION_TIMEOUT") {
		return `it did not finish within ${(scope.timeoutMs ?? defaultExpressionTimeoutMs) / 1000} s (an endless loop?)`;
	}
	// Thrown inside the sandbox (its Error, or anything): read in there too, under a time limit: its
	// message, or its prototype's, may be a getter, and `instanceof` would call a proxy's trap.
	const ctx = context as Record<string, unknown>;
	ctx.__orrery_error = error;
	try {
		const text = new Script(
			'(function(e){try{return String(e&&e.name||"Error")+": "+String(e&&e.message);}catch(x){return "Error";}})(__orrery_error)',
		).runInContext(context, { timeout: 1000, displayErrors: false });
		return typeof text === "string" ? text.slice(0, 500) : "Error";
	} catch {
		return "an error that could not be described";
	} finally {
		ctx.__orrery_error = undefined;
	}
}

function dataProperty(value: unknown, key: string): unknown {
	if (typeof value !== "object" || value === null || types.isProxy(value)) return undefined;
	const d = Object.getOwnPropertyDescriptor(value, key);
	return d && "value" in d ? d.value : undefined;
}
