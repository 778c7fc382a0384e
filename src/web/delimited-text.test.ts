import { describe, expect, it } from "vitest";
import { guessDelimiter, parseDelimited } from "./delimited-text.js";

describe("parseDelimited", () => {
	it("handles quotes, doubled quotes, newlines in quotes and CRLF", () => {
		const text = 'name,note\r\n"Doe, Jane","said ""hi""\nthen left"\r\nAda,\n';
		expect(parseDelimited(text, ",", 10).rows).toEqual([
			["name", "note"],
			["Doe, Jane", 'said "hi"\nthen left'],
			["Ada", ""],
		]);
	});

	it("stops at the row limit and leaves out a row cut off by a partial read", () => {
		expect(parseDelimited("a\nb\nc\n", ",", 2)).toEqual({ rows: [["a"], ["b"]], isTruncated: true });
		expect(parseDelimited("a\nb\nc", ",", 10, true).rows).toEqual([["a"], ["b"]]);
	});

	it("guesses tabs and semicolons", () => {
		expect(guessDelimiter("a\tb\tc\n1\t2\t3")).toBe("\t");
		expect(guessDelimiter("a;b\n")).toBe(";");
		expect(guessDelimiter("single")).toBe(",");
	});
});
