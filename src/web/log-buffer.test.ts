import { describe, expect, it } from "vitest";
import { appendLog, emptyLog, logText, partialLine } from "./log-buffer.js";

describe("appendLog", () => {
	it("parses complete lines once and keeps the unfinished one raw until its newline arrives", () => {
		let log = appendLog(emptyLog(), "one\ntw");
		expect(log.lines).toHaveLength(1);
		expect(partialLine(log)).toEqual([{ text: "tw", style: {} }]);
		const first = log.lines[0];
		log = appendLog(log, "o\n\x1b[3");
		log = appendLog(log, "3mthree\n");
		expect(log.lines[0]).toBe(first); // finished lines are never rebuilt
		expect(log.lines[2]).toEqual([{ text: "three", style: { fg: 3 } }]);
		expect(logText(log)).toBe("one\ntwo\nthree\n");
	});

	it("drops whole blocks from the front beyond the line limit and counts them", () => {
		const chunk = Array.from({ length: 1000 }, (_, i) => `line ${i}`).join("\n");
		const log = appendLog(emptyLog(), `${chunk}\n`, 500);
		expect(log.dropped % 200).toBe(0);
		expect(log.dropped + log.lines.length).toBe(1000);
		expect(log.lines.length).toBeLessThanOrEqual(700);
		expect(log.lines.at(-1)?.[0]?.text).toBe("line 999");
	});
});
