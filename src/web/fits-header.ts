/** One 80-character header card of a FITS file. */
export interface FitsCard {
	key: string;
	value: string;
	comment: string;
}

/** One header-data unit: its cards and what they say about the data. */
export interface FitsHdu {
	index: number;
	/** `PRIMARY`, or the XTENSION value (IMAGE, BINTABLE, TABLE). */
	kind: string;
	name: string | undefined;
	bitpix: number;
	axes: number[];
	cards: FitsCard[];
}

const block = 2880;
const card = 80;

/** Splits a card's value from its comment, unquoting strings (`'O''Brien'` → `O'Brien`). */
export function parseCard(text: string): FitsCard {
	const key = text.slice(0, 8).trim();
	if (text.slice(8, 10) !== "= ") return { key, value: "", comment: text.slice(8).trim() };
	const rest = text.slice(10);
	const trimmed = rest.trimStart();
	if (trimmed.startsWith("'")) {
		let value = "";
		let i = 1;
		for (; i < trimmed.length; i++) {
			if (trimmed[i] === "'") {
				if (trimmed[i + 1] === "'") {
					value += "'";
					i++;
					continue;
				}
				break;
			}
			value += trimmed[i];
		}
		const after = trimmed.slice(i + 1);
		const slash = after.indexOf("/");
		return { key, value: value.trimEnd(), comment: slash < 0 ? "" : after.slice(slash + 1).trim() };
	}
	const slash = rest.indexOf("/");
	return {
		key,
		value: (slash < 0 ? rest : rest.slice(0, slash)).trim(),
		comment: slash < 0 ? "" : rest.slice(slash + 1).trim(),
	};
}

const ascii = new TextDecoder("ascii");

/**
 * Reads the headers of a FITS file's HDUs found in `bytes` (a prefix of the file is enough: it stops
 * where the bytes end; `isComplete` is false when more may follow). Throws when the bytes are not FITS.
 */
export function parseFitsHeaders(bytes: Uint8Array): { hdus: FitsHdu[]; isComplete: boolean } {
	const hdus: FitsHdu[] = [];
	let at = 0;
	while (at + block <= bytes.length) {
		const cards: FitsCard[] = [];
		let ended = false;
		while (!ended && at + block <= bytes.length) {
			for (let c = 0; c < block / card; c++) {
				const parsed = parseCard(ascii.decode(bytes.subarray(at + c * card, at + (c + 1) * card)));
				if (parsed.key === "END") {
					ended = true;
					break;
				}
				if (parsed.key !== "" || parsed.comment !== "") cards.push(parsed);
			}
			at += block;
		}
		const first = cards[0];
		if (hdus.length === 0 && first?.key !== "SIMPLE") throw new Error("this is not a FITS file (no SIMPLE card)");
		if (!ended) return { hdus, isComplete: false };
		const get = (k: string) => cards.find((c) => c.key === k)?.value;
		const num = (k: string, fallback: number) => {
			const v = Number(get(k));
			return Number.isFinite(v) ? v : fallback;
		};
		const naxis = num("NAXIS", 0);
		const axes = Array.from({ length: naxis }, (_, i) => num(`NAXIS${i + 1}`, 0));
		const bitpix = num("BITPIX", 8);
		hdus.push({ index: hdus.length, kind: get("XTENSION") ?? "PRIMARY", name: get("EXTNAME"), bitpix, axes, cards });
		const elements = naxis === 0 ? 0 : axes.reduce((a, b) => a * b, 1);
		const dataBytes = (Math.abs(bitpix) / 8) * num("GCOUNT", 1) * (num("PCOUNT", 0) + elements);
		at += Math.ceil(dataBytes / block) * block;
	}
	// Whole HDUs end on block boundaries, so the bytes hold every HDU only if the last one ends exactly there.
	return { hdus, isComplete: at === bytes.length };
}

const pixelTypes: Record<number, string> = {
	8: "8-bit unsigned integer",
	16: "16-bit integer",
	32: "32-bit integer",
	64: "64-bit integer",
	[-32]: "32-bit float",
	[-64]: "64-bit float",
};

/** One line about an HDU: `IMAGE "SCI": 32-bit float, 2048 × 2048` or `BINTABLE "EVENTS": 5 columns × 1,000 rows`. */
export function describeHdu(hdu: FitsHdu): string {
	const label = `${hdu.index === 0 ? "Primary" : hdu.kind}${hdu.name ? ` "${hdu.name}"` : ""}`;
	if (hdu.kind === "BINTABLE" || hdu.kind === "TABLE") {
		const columns = hdu.cards.find((c) => c.key === "TFIELDS")?.value ?? "?";
		return `${label}: table, ${columns} columns × ${(hdu.axes[1] ?? 0).toLocaleString()} rows`;
	}
	if (hdu.axes.length === 0 || hdu.axes.every((n) => n === 0)) return `${label}: no data`;
	return `${label}: ${pixelTypes[hdu.bitpix] ?? `BITPIX ${hdu.bitpix}`}, ${hdu.axes.join(" × ")}`;
}

/** Header keys worth showing first in a summary. */
export const notableFitsKeys = [
	"OBJECT",
	"TELESCOP",
	"INSTRUME",
	"DATE-OBS",
	"EXPTIME",
	"FILTER",
	"RA",
	"DEC",
	"BUNIT",
	"ORIGIN",
] as const;
