import { describe, expect, test } from "vitest";
import { typedTextValues } from "./text-values.js";

const inputs = [
	{ id: "lines", type: "int" as const },
	{ id: "limit", type: ["null", "double"] as ["null", "double"] },
	{ id: "data", type: { type: "array" as const, items: "File" as const } },
	{ id: "either", type: ["int", "string"] as ["int", "string"] },
];
const context = {
	labelOf: (name: string) => `parameter ${name}`,
	locate: (path: string) => `file:///ws/${path}`,
	fail: (message: string) => new Error(message),
};

describe("values given as text for a process's inputs", () => {
	test("text is converted by the input's type; values that are not text, and unknown names, are kept", () => {
		expect(
			typedTextValues(
				inputs,
				{ lines: "3", limit: "8.5", data: "a.csv", either: "7", other: "x", already: 2 },
				context,
			),
		).toEqual({
			lines: 3,
			limit: 8.5,
			data: [{ class: "File", location: "file:///ws/a.csv" }],
			// A union that takes text keeps it.
			either: "7",
			other: "x",
			already: 2,
		});
		const file = { class: "File", location: "b.csv" };
		expect(typedTextValues(inputs, { lines: 4, data: [file] }, context)).toEqual({ lines: 4, data: [file] });
	});

	test("text the type refuses is an error that names the parameter", () => {
		expect(() => typedTextValues(inputs, { lines: "2.5" }, context)).toThrow(
			"parameter lines takes a whole number, not '2.5'",
		);
		expect(() => typedTextValues(inputs, { limit: "" }, context)).toThrow("parameter limit takes a number, not ''");
	});
});
