/** Rows of a CSV or TSV text, and whether rows were left out. */
export interface DelimitedRows {
	rows: string[][];
	isTruncated: boolean;
}

/** Guesses the delimiter of a CSV-like text from its first line: tab, semicolon or comma. */
export function guessDelimiter(text: string): string {
	const end = text.indexOf("\n");
	const first = end < 0 ? text : text.slice(0, end);
	const count = (c: string) => first.split(c).length - 1;
	const candidates = ["\t", ";", ","].map((c) => [c, count(c)] as const);
	const best = candidates.reduce((a, b) => (b[1] > a[1] ? b : a));
	return best[1] > 0 ? best[0] : ",";
}

/**
 * Parses delimited text (RFC 4180 quoting: "a ""b""" and newlines inside quotes) up to `maxRows` rows.
 * `isPartial` says the text was cut off, so its last row may be incomplete and is left out.
 */
export function parseDelimited(text: string, delimiter: string, maxRows: number, isPartial = false): DelimitedRows {
	const rows: string[][] = [];
	let row: string[] = [];
	let field = "";
	let inQuotes = false;
	let i = 0;
	const endRow = () => {
		row.push(field);
		rows.push(row);
		row = [];
		field = "";
	};
	while (i < text.length && rows.length < maxRows) {
		const c = text[i] as string;
		if (inQuotes) {
			if (c === '"' && text[i + 1] === '"') {
				field += '"';
				i += 2;
				continue;
			}
			if (c === '"') inQuotes = false;
			else field += c;
			i++;
			continue;
		}
		if (c === '"' && field === "") inQuotes = true;
		else if (c === delimiter) {
			row.push(field);
			field = "";
		} else if (c === "\n") endRow();
		else if (c !== "\r") field += c;
		i++;
	}
	const hasRest = i < text.length;
	if (!hasRest && !isPartial && (field !== "" || row.length > 0)) endRow();
	return { rows, isTruncated: hasRest || isPartial };
}
