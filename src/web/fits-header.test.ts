import { describe, expect, it } from "vitest";
import { describeHdu, parseCard, parseFitsHeaders } from "./fits-header.js";

/** A FITS header of these cards, padded to whole 2880-byte blocks, followed by `dataBytes` zero bytes (padded). */
function fits(cards: string[], dataBytes = 0): Uint8Array {
	const text = [...cards, "END"].map((c) => c.padEnd(80)).join("");
	const header = text.padEnd(Math.ceil(text.length / 2880) * 2880);
	const data = Math.ceil(dataBytes / 2880) * 2880;
	const out = new Uint8Array(header.length + data);
	out.set(new TextEncoder().encode(header));
	return out;
}

const card = (key: string, value: string, comment = "") =>
	`${key.padEnd(8)}= ${value.padStart(20)}${comment ? ` / ${comment}` : ""}`;

describe("parseFitsHeaders", () => {
	it("reads the primary header and the extensions after their data", () => {
		const primary = fits(
			[
				card("SIMPLE", "T"),
				card("BITPIX", "-32"),
				card("NAXIS", "2"),
				card("NAXIS1", "100"),
				card("NAXIS2", "50"),
				card("OBJECT", "'M 31'", "target"),
			],
			100 * 50 * 4,
		);
		const table = fits([
			card("XTENSION", "'BINTABLE'"),
			card("BITPIX", "8"),
			card("NAXIS", "2"),
			card("NAXIS1", "16"),
			card("NAXIS2", "1000"),
			card("PCOUNT", "0"),
			card("GCOUNT", "1"),
			card("TFIELDS", "3"),
			card("EXTNAME", "'EVENTS'"),
		]);
		const bytes = new Uint8Array(primary.length + table.length);
		bytes.set(primary);
		bytes.set(table, primary.length);
		const { hdus, isComplete } = parseFitsHeaders(bytes);
		expect(hdus).toHaveLength(2);
		expect(describeHdu(hdus[0]!)).toBe("Primary: 32-bit float, 100 × 50");
		expect(hdus[0]!.cards.find((c) => c.key === "OBJECT")).toEqual({ key: "OBJECT", value: "M 31", comment: "target" });
		expect(describeHdu(hdus[1]!)).toBe('BINTABLE "EVENTS": table, 3 columns × 1,000 rows');
		expect(isComplete).toBe(false); // the table's data is not in these bytes
	});

	it("refuses bytes that are not FITS", () => {
		expect(() => parseFitsHeaders(new Uint8Array(2880).fill(65))).toThrow(/not a FITS file/);
	});

	it("unquotes strings with doubled quotes and keeps comment cards", () => {
		expect(parseCard(card("OBSERVER", "'O''Brien  '")).value).toBe("O'Brien");
		expect(parseCard("COMMENT   reduced with pipeline 2.1").comment).toBe("reduced with pipeline 2.1");
	});
});
