import { describe, expect, test } from "vitest";
import { ExpressionError, evaluate, formatNumber, pythonJson } from "./expression-evaluator.js";

const inputs = { name: "world", n: 3, list: ["a", "b"], rec: { "a b": 1, length: 7 }, nothing: null };
const refs = {
	inputs,
	self: { basename: "x.txt" },
	runtime: { outdir: "/out", cores: 2 },
	where: "tool.cwl:5: arguments",
};
const js = { ...refs, javascript: [] as string[] };

describe("parameter references (no JavaScript)", () => {
	test("a lone reference keeps the value's type", () => {
		expect(evaluate("$(inputs.n)", refs)).toBe(3);
		expect(evaluate("$(inputs.list)", refs)).toEqual(["a", "b"]);
		expect(evaluate("$(inputs.list.length)", refs)).toBe(2);
		expect(evaluate("$(inputs.rec['a b'])", refs)).toBe(1);
		expect(evaluate('$(inputs.rec["length"])', refs)).toBe(7);
		expect(evaluate("$(inputs.rec.length)", refs)).toBe(7);
		expect(evaluate("$(self.basename)", refs)).toBe("x.txt");
		expect(evaluate("$(runtime.cores)", refs)).toBe(2);
		expect(evaluate("$(null)", refs)).toBeNull();
	});

	test("references inside text are interpolated, objects as JSON", () => {
		expect(evaluate("hello $(inputs.name)!", refs)).toBe("hello world!");
		expect(evaluate("$(inputs.list) $(inputs.n)", refs)).toBe('["a", "b"] 3');
	});

	test("backslashes escape expressions as the standard says", () => {
		expect(evaluate("\\$(inputs.name) $(inputs.name)", refs)).toBe("$(inputs.name) world");
		expect(evaluate("\\\\$(inputs.name)", refs)).toBe("\\world");
		expect(evaluate("a\\b $ \\$", refs)).toBe("a\\b $ \\$");
	});

	test("a reference that fails names the document, the field and the expression", () => {
		expect(() => evaluate("$(inputs.nothing.field)", refs)).toThrow(ExpressionError);
		expect(() => evaluate("$(inputs.nothing.field)", refs)).toThrow(
			/tool\.cwl:5: arguments: the expression \$\(inputs\.nothing\.field\) failed: cannot read 'field' of null/,
		);
		expect(() => evaluate("$(inputs.n.length)", refs)).toThrow(/no field 'length'/);
		expect(() => evaluate("$(inputs.missing)", refs)).toThrow(/inputs has no field 'missing'/);
	});

	test("JavaScript is refused without InlineJavascriptRequirement", () => {
		expect(() => evaluate("$(1 + 2)", refs)).toThrow(/InlineJavascriptRequirement/);
		expect(() => evaluate("${ return 1; }", refs)).toThrow(/InlineJavascriptRequirement/);
	});
});

describe("JavaScript expressions", () => {
	test("evaluate with inputs, self and runtime, and expressionLib", () => {
		expect(evaluate("$(inputs.n * 2)", js)).toBe(6);
		expect(evaluate("${ return inputs.list.map(function (x) { return x.toUpperCase(); }); }", js)).toEqual(["A", "B"]);
		expect(evaluate("$(double(inputs.n))", { ...js, javascript: ["function double(x) { return 2 * x; }"] })).toBe(6);
		expect(evaluate("$(undefined)", js)).toBeNull();
	});

	test("surrounding whitespace is dropped unless the field keeps it", () => {
		expect(evaluate("${ return 'x'; }\n", js)).toBe("x");
		expect(evaluate("${ return 'x'; }\n", { ...js, keepsWhitespace: true })).toBe("x\n");
	});

	test("an expression that never ends is stopped and reported", () => {
		const started = Date.now();
		expect(() => evaluate("${ while (true) {} }", { ...js, timeoutMs: 200 })).toThrow(/did not finish within 0\.2 s/);
		expect(Date.now() - started).toBeLessThan(5000);
	});

	test("an expression cannot reach the server: no object of the server's is in the sandbox", () => {
		const escapes = [
			"${ return __orrery_in0.constructor.constructor('return process')().pid; }",
			"${ return this.constructor.constructor('return process')().pid; }",
			"${ return inputs.constructor.constructor('return process')().pid; }",
			"${ return (function(){ return this; })().process.pid; }",
			"$(typeof process === 'undefined' ? 'no process' : process.pid)",
			"$(typeof require === 'undefined' ? 'no require' : 'require')",
		];
		for (const code of escapes) {
			let value: unknown;
			try {
				value = evaluate(code, { ...js, javascript: [] });
			} catch (error) {
				expect(error).toBeInstanceOf(ExpressionError);
				continue;
			}
			expect(value, code).not.toBe(process.pid);
			expect(["no process", "no require"]).toContain(value);
		}
	});

	test("runs do not share what an expression leaves behind; one run's expressions do", () => {
		const runA = { ...js, javascript: ["var seen = [];"] };
		const runB = { ...js, javascript: ["var seen = [];"] };
		evaluate("${ seen.push(inputs.name); JSON.parse = function () { return 'poisoned'; }; return seen.length; }", runA);
		expect(evaluate("${ return seen.length; }", runA)).toBe(1);
		// The same library text in another run's document: a context of its own.
		expect(evaluate("${ return seen.length; }", runB)).toBe(0);
		expect(evaluate("$(inputs.name)", runB)).toBe("world");
		// No library: each run's empty list is its own, too.
		const emptyA = { ...js, javascript: [] as string[] };
		evaluate("${ globalThis.stolen = inputs.name; return 1; }", emptyA);
		expect(evaluate("$(typeof stolen)", { ...js, javascript: [] as string[] })).toBe("undefined");
	});

	test("a loop carried by a promise is stopped by the time limit too; a thrown getter cannot hang the server", () => {
		const started = Date.now();
		expect(() =>
			evaluate('${ Promise.resolve().then(function () { for (;;) {} }); return "x"; }', { ...js, timeoutMs: 200 }),
		).toThrow(/did not finish within 0\.2 s/);
		expect(() =>
			evaluate("${ throw { get message() { for (;;) {} }, get name() { for (;;) {} } }; }", { ...js, timeoutMs: 200 }),
		).toThrow(/failed: (Error|an error|it did not finish within)/);
		expect(() =>
			evaluate("${ throw new Proxy({}, { get: function () { for (;;) {} } }); }", { ...js, timeoutMs: 200 }),
		).toThrow(/failed: (Error|an error|it did not finish within)/);
		// The names the server writes its inputs to cannot become setters that it would run.
		const trap = { ...js, javascript: [] as string[], timeoutMs: 200 };
		try {
			evaluate(
				"${ Object.defineProperty(globalThis, '__orrery_in0', { set: function () { for (;;) {} }, get: function () { return '{}'; } }); return 1; }",
				trap,
			);
		} catch (error) {
			expect(error).toBeInstanceOf(ExpressionError);
		}
		expect(evaluate("$(1 + 1)", trap)).toBe(2);
		expect(Date.now() - started).toBeLessThan(8000);
	});

	test("an expression that exhausts memory fails with its limit, not the server; the next ones run", () => {
		const lib = { ...js, javascript: ["function triple(x) { return 3 * x; }"] };
		expect(evaluate("$(triple(inputs.n))", lib)).toBe(9);
		const started = Date.now();
		expect(() =>
			evaluate("${ var kept = []; for (;;) kept.push(new Array(100000).fill(inputs.n)); }", {
				...js,
				timeoutMs: 60_000,
			}),
		).toThrow(/failed: it used more than \d+ MiB of memory \(ORRERY_CWL_EXPRESSION_MEMORY_MB/);
		// Found when the worker ends, not at the time limit.
		expect(Date.now() - started).toBeLessThan(30_000);
		// A new worker builds the library's context again.
		expect(evaluate("$(triple(inputs.n))", lib)).toBe(9);
		expect(evaluate("${ return inputs.list.concat(['c']); }", js)).toEqual(["a", "b", "c"]);
	});

	test("a plain reference is resolved as JavaScript would, as a copy; anything else goes to JavaScript", () => {
		const poisoned = { ...js, javascript: ["JSON.parse = function () { return {}; };"] };
		const list = evaluate("$(inputs.list)", js) as string[];
		list.push("changed");
		expect(inputs.list).toEqual(["a", "b"]);
		expect(evaluate("$(inputs.rec['a b'])", js)).toBe(1);
		expect(evaluate("$(inputs.list.length)", js)).toBe(2);
		// Not a plain reference in JavaScript: a subtraction, a missing index, a prototype's member.
		expect(evaluate("$(inputs.n-1)", js)).toBe(2);
		expect(evaluate("$(inputs.list[5])", js)).toBeNull();
		expect(evaluate("$(typeof inputs.name.toUpperCase)", js)).toBe("function");
		expect(evaluate("$(inputs.name.toUpperCase)", js)).toBeNull();
		// The library replaced JSON.parse, so JavaScript sees no inputs; a plain reference still does.
		expect(evaluate("$(inputs.name)", poisoned)).toBe("world");
		expect(evaluate("$(inputs.name + '')", poisoned)).toBe("undefined");
	});

	test("runtime errors and syntax errors name the expression", () => {
		expect(() => evaluate("$(inputs.nothing.x)", js)).toThrow(
			/tool\.cwl:5: arguments: the expression \$\(inputs\.nothing\.x\) failed: TypeError/,
		);
		expect(() => evaluate("${ return 1 +; }", js)).toThrow(/syntax error/);
		expect(() => evaluate("$(inputs.n", js)).toThrow(/is not closed/);
	});

	test("expressions cannot reach Node: there is no require or process", () => {
		expect(evaluate("$(typeof require + ' ' + typeof process)", js)).toBe("undefined undefined");
	});
});

describe("formatting", () => {
	test("numbers are written without exponents", () => {
		expect(formatNumber(0.00001)).toBe("0.00001");
		expect(formatNumber(1.23e-7)).toBe("0.000000123");
		expect(formatNumber(1e21)).toBe("1000000000000000000000");
		expect(formatNumber(42)).toBe("42");
	});

	test("objects are written as Python's json.dumps writes them", () => {
		expect(pythonJson({ a: [1, "é"], b: null })).toBe('{"a": [1, "\\u00e9"], "b": null}');
	});
});
