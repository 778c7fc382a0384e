/** Where the CLI writes: human text by default, JSON with `--json`; colours only on a terminal. */
export interface Output {
	readonly isJson: boolean;
	readonly isTty: boolean;
	/** Writes a line to stdout. */
	line(text?: string): void;
	/** Writes data as JSON to stdout. */
	json(data: unknown): void;
	/** Writes a note to stderr (progress, hints), never to stdout. */
	note(text: string): void;
	/** Prints rows as an aligned table. */
	table(headers: string[], rows: string[][]): void;
	colour(name: keyof typeof colours, text: string): string;
}

const colours = {
	green: 32,
	red: 31,
	yellow: 33,
	blue: 34,
	grey: 90,
	bold: 1,
} as const;

/** Colour of each workflow or job status in human output. */
export function statusColour(status: string): keyof typeof colours {
	switch (status) {
		case "finished":
			return "green";
		case "failed":
			return "red";
		case "stopped":
		case "deleted":
			return "yellow";
		case "running":
		case "pending":
		case "queued":
			return "blue";
		default:
			return "grey";
	}
}

/** The output of one CLI invocation. */
export function createOutput(options: {
	isJson: boolean;
	stdout?: NodeJS.WriteStream;
	stderr?: NodeJS.WriteStream;
}): Output {
	const stdout = options.stdout ?? process.stdout;
	const stderr = options.stderr ?? process.stderr;
	const isTty = Boolean(stdout.isTTY) && !process.env.NO_COLOR;
	return {
		isJson: options.isJson,
		isTty,
		line: (text = "") => stdout.write(`${text}\n`),
		json: (data) => stdout.write(`${JSON.stringify(data, null, 2)}\n`),
		note: (text) => stderr.write(`${text}\n`),
		table(headers, rows) {
			const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => visibleLength(r[i] ?? ""))));
			const fmt = (cells: string[]) =>
				cells
					.map((c, i) => (i === cells.length - 1 ? c : c + " ".repeat((widths[i] ?? 0) - visibleLength(c))))
					.join("   ")
					.trimEnd();
			stdout.write(`${fmt(headers.map((h) => h.toUpperCase()))}\n`);
			for (const r of rows) stdout.write(`${fmt(r)}\n`);
		},
		colour: (name, text) => (isTty ? `\x1b[${colours[name]}m${text}\x1b[0m` : text),
	};
}

function visibleLength(text: string): number {
	// biome-ignore lint/suspicious/noControlCharactersInRegex: strips ANSI colour codes
	return text.replace(/\x1b\[[0-9;]*m/g, "").length;
}
