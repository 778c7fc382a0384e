import { AppError } from "../../common/index.js";
import { expressionMemoryMb, runInSandbox, type SandboxAnswer } from "./expression-sandbox.js";
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
	if (kind === "paren") {
		const value = asReference(code, scope);
		if (value !== undefined) return value;
	}
	return runJavaScript(kind === "paren" ? `return (${code});` : code, whole, scope);
}

/**
 * A `$(…)` that is a plain parameter reference means the same in JavaScript: it is resolved here,
 * without a round trip to the expression worker. Only when that is certain: roots the wrapper
 * defines, no `-` (a subtraction in JavaScript), every step found; the value is copied as the
 * worker's JSON would copy it. Anything else (undefined included) goes to the worker.
 */
function asReference(code: string, scope: ExpressionScope): unknown {
	if (code.includes("-")) return undefined;
	const ref = parseParameterReference(code);
	if (!ref || (ref.root !== "inputs" && ref.root !== "self" && ref.root !== "runtime")) return undefined;
	let value: unknown;
	try {
		value = resolveParameterReference(ref, { inputs: scope.inputs, self: scope.self, runtime: scope.runtime });
	} catch {
		return undefined;
	}
	const text = value === undefined ? undefined : JSON.stringify(value);
	return text === undefined ? undefined : JSON.parse(text);
}

/**
 * Runs JavaScript in the expression worker (expression-sandbox.ts): a context per loaded
 * expressionLib (`javascriptOf` gives each loaded requirement its own list, an empty one too), so
 * runs, and so users, never share a context or what an expression leaves in it; a time limit and a
 * memory limit of its own.
 */
function runJavaScript(body: string, whole: string, scope: ExpressionScope): unknown {
	const timeoutMs = scope.timeoutMs ?? defaultExpressionTimeoutMs;
	const answer = runInSandbox(
		scope.javascript ?? [],
		body,
		[json(scope.inputs), json(scope.self), json(scope.runtime)],
		timeoutMs,
	);
	if ("value" in answer) return (JSON.parse(answer.value) as unknown[])[0] ?? null;
	const timeLimit = `it did not finish within ${timeoutMs / 1000} s (an endless loop?)`;
	if ("libError" in answer)
		throw new ExpressionError(
			scope.where,
			"expressionLib",
			answer.libError === "timeout" ? timeLimit : answer.libError,
		);
	throw new ExpressionError(scope.where, whole, reasonOf(answer, timeLimit));
}

function reasonOf(answer: SandboxAnswer, timeLimit: string): string {
	if ("error" in answer) return answer.error;
	if ("syntax" in answer) return `syntax error: ${answer.syntax}`;
	if ("timeout" in answer) return timeLimit;
	if ("memory" in answer)
		return `it used more than ${expressionMemoryMb} MiB of memory (ORRERY_CWL_EXPRESSION_MEMORY_MB is the limit)`;
	return "the expression worker stopped unexpectedly";
}

function json(value: unknown): string {
	return JSON.stringify(value === undefined ? null : value);
}
