import { describe, expect, it } from "vitest";
import { applySgr, parseAnsiLine, xterm256 } from "./ansi-line.js";

describe("parseAnsiLine", () => {
	it("splits a line into spans with the colours and weights the escapes ask for", () => {
		const { spans, style } = parseAnsiLine("\x1b[1;31mred\x1b[0m plain \x1b[32mgreen", {});
		expect(spans).toEqual([
			{ text: "red", style: { bold: true, fg: 1 } },
			{ text: " plain ", style: {} },
			{ text: "green", style: { fg: 2 } },
		]);
		expect(style).toEqual({ fg: 2 }); // carried into the next line
	});

	it("reads 256-colour and true-colour escapes", () => {
		expect(applySgr({}, "38;5;196").fg).toBe("#ff0000");
		expect(applySgr({}, "48;2;1;2;3").bg).toBe("#010203");
		expect(xterm256(9)).toBe(9);
		expect(xterm256(232)).toBe("#080808");
	});

	it("drops cursor and OSC escapes and lets a carriage return start the line over", () => {
		const { spans } = parseAnsiLine("10%\r\x1b[2K50%\r100% \x1b]8;;https://x\x07link\x1b]8;;\x07", {});
		expect(spans.map((s) => s.text).join("")).toBe("100% link");
		expect(parseAnsiLine("windows line\r", {}).spans[0]?.text).toBe("windows line");
	});

	it("hides an escape sequence cut off at the end of what has arrived", () => {
		expect(parseAnsiLine("abc\x1b[3", {}).spans).toEqual([{ text: "abc", style: {} }]);
	});
});
