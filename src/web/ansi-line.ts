/** The style of a run of terminal text; colours are a palette index 0–15 or `#rrggbb`. */
export interface AnsiStyle {
	fg?: number | string;
	bg?: number | string;
	bold?: boolean;
	dim?: boolean;
	italic?: boolean;
	underline?: boolean;
	inverse?: boolean;
	strike?: boolean;
}

/** Text in one style. */
export interface AnsiSpan {
	text: string;
	style: AnsiStyle;
}

const hex = (n: number) => n.toString(16).padStart(2, "0");
const rgb = (r: number, g: number, b: number) => `#${hex(r)}${hex(g)}${hex(b)}`;

/** A 256-colour index as a palette index (0–15) or an RGB colour. */
export function xterm256(n: number): number | string {
	if (n < 16) return n;
	if (n < 232) {
		const c = n - 16;
		const level = (v: number) => (v === 0 ? 0 : 55 + v * 40);
		return rgb(level(Math.floor(c / 36)), level(Math.floor(c / 6) % 6), level(c % 6));
	}
	const grey = 8 + (n - 232) * 10;
	return rgb(grey, grey, grey);
}

/** Applies one SGR sequence (`ESC [ … m`) to a style. */
export function applySgr(style: AnsiStyle, params: string): AnsiStyle {
	const codes = params === "" ? [0] : params.split(/[;:]/).map((p) => (p === "" ? 0 : Number(p)));
	let s: AnsiStyle = { ...style };
	for (let i = 0; i < codes.length; i++) {
		const c = codes[i] as number;
		if (c === 0) s = {};
		else if (c === 1) s.bold = true;
		else if (c === 2) s.dim = true;
		else if (c === 3) s.italic = true;
		else if (c === 4) s.underline = true;
		else if (c === 7) s.inverse = true;
		else if (c === 9) s.strike = true;
		else if (c === 22) {
			delete s.bold;
			delete s.dim;
		} else if (c === 23) delete s.italic;
		else if (c === 24) delete s.underline;
		else if (c === 27) delete s.inverse;
		else if (c === 29) delete s.strike;
		else if (c >= 30 && c <= 37) s.fg = c - 30;
		else if (c === 39) delete s.fg;
		else if (c >= 40 && c <= 47) s.bg = c - 40;
		else if (c === 49) delete s.bg;
		else if (c >= 90 && c <= 97) s.fg = c - 90 + 8;
		else if (c >= 100 && c <= 107) s.bg = c - 100 + 8;
		else if (c === 38 || c === 48) {
			const mode = codes[i + 1];
			let colour: number | string | undefined;
			if (mode === 5 && codes[i + 2] !== undefined) {
				colour = xterm256(Math.min(255, codes[i + 2] as number));
				i += 2;
			} else if (mode === 2 && codes[i + 4] !== undefined) {
				const [r, g, b] = [codes[i + 2], codes[i + 3], codes[i + 4]].map((v) => Math.min(255, v ?? 0));
				colour = rgb(r as number, g as number, b as number);
				i += 4;
			} else break; // malformed: ignore the rest of the sequence
			if (c === 38) s.fg = colour;
			else s.bg = colour;
		}
	}
	return s;
}

// CSI sequences, OSC strings (ended by BEL or ST), two-byte escapes, and carriage returns.
// biome-ignore lint/suspicious/noControlCharactersInRegex: terminal escapes are control characters by definition
const control = /\x1b\[([0-9;:?<=>]*)[ -/]*([@-~])|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-Z\\-_]|\r/g;
// An escape sequence cut off at the end of the text received so far.
// biome-ignore lint/suspicious/noControlCharactersInRegex: terminal escapes are control characters by definition
const unfinished = /\x1b(?:\[[0-9;:?<=>]*[ -/]*|\][^\x07\x1b]*)?$/;

/**
 * Parses one line of terminal output (no newline) into styled spans, starting from `style`. A carriage
 * return starts the line over (progress bars), and escapes other than colours are dropped.
 */
export function parseAnsiLine(line: string, style: AnsiStyle): { spans: AnsiSpan[]; style: AnsiStyle } {
	const text = line.replace(unfinished, "");
	let spans: AnsiSpan[] = [];
	let current = style;
	let last = 0;
	const push = (to: number) => {
		if (to > last) spans.push({ text: text.slice(last, to), style: current });
	};
	for (const m of text.matchAll(control)) {
		push(m.index);
		last = m.index + m[0].length;
		if (m[0] === "\r") {
			if (last < text.length) spans = []; // a CR before a newline is just a line ending
		} else if (m[2] === "m") current = applySgr(current, m[1] ?? "");
	}
	push(text.length);
	return { spans: mergeSpans(spans), style: current };
}

function mergeSpans(spans: AnsiSpan[]): AnsiSpan[] {
	const out: AnsiSpan[] = [];
	for (const s of spans) {
		const prev = out.at(-1);
		if (prev && prev.style === s.style) prev.text += s.text;
		else out.push({ ...s });
	}
	return out;
}
