import { type AnsiSpan, type AnsiStyle, parseAnsiLine } from "./ansi-line.js";

/** Lines per block; blocks are the unit of rendering and of dropping old output. */
export const blockSize = 200;

/** A log as parsed lines: complete lines never change, so their blocks render once. */
export interface LogBuffer {
	/** Complete lines, the first of them being line number `dropped`. */
	lines: readonly AnsiSpan[][];
	/** Lines dropped from the front to bound memory (a multiple of blockSize). */
	dropped: number;
	/** The style in force at the end of the last complete line. */
	style: AnsiStyle;
	/** Raw text of the line still being written (no newline yet). */
	partial: string;
}

/** An empty log. */
export function emptyLog(): LogBuffer {
	return { lines: [], dropped: 0, style: {}, partial: "" };
}

/** Adds a chunk of output; keeps at most about `maxLines` lines, dropping whole blocks from the front. */
export function appendLog(buffer: LogBuffer, chunk: string, maxLines = 20_000): LogBuffer {
	if (chunk === "") return buffer;
	const parts = (buffer.partial + chunk).split("\n");
	const partial = parts.pop() ?? "";
	if (parts.length === 0) return { ...buffer, partial };
	let style = buffer.style;
	const added = parts.map((raw) => {
		const parsed = parseAnsiLine(raw, style);
		style = parsed.style;
		return parsed.spans;
	});
	let lines = [...buffer.lines, ...added];
	let dropped = buffer.dropped;
	if (lines.length > maxLines + blockSize) {
		const cut = Math.floor((lines.length - maxLines) / blockSize) * blockSize;
		lines = lines.slice(cut);
		dropped += cut;
	}
	return { lines, dropped, style, partial };
}

/** The line still being written, parsed for display. */
export function partialLine(buffer: LogBuffer): AnsiSpan[] {
	return buffer.partial === "" ? [] : parseAnsiLine(buffer.partial, buffer.style).spans;
}

/** The visible text of a log (for copying and tests). */
export function logText(buffer: LogBuffer): string {
	const lines = buffer.lines.map((l) => l.map((s) => s.text).join(""));
	const last = partialLine(buffer)
		.map((s) => s.text)
		.join("");
	return lines.join("\n") + (lines.length > 0 ? "\n" : "") + last;
}
