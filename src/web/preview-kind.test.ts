import { describe, expect, it } from "vitest";
import { looksLikeText, previewKind } from "./preview-kind.js";

describe("previewKind", () => {
	it("chooses a preview by extension and sniffs the rest", () => {
		expect(previewKind("img/sky.PNG")).toBe("image");
		expect(previewKind("cube.fits.gz")).toBe("fits");
		expect(previewKind("data.tsv")).toBe("csv");
		expect(previewKind("Snakefile")).toBe("text");
		expect(previewKind("blob.bin")).toBe("sniff");
		expect(looksLikeText(new TextEncoder().encode("héllo"))).toBe(true);
		expect(looksLikeText(new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0, 1, 2, 3, 4]))).toBe(false);
	});
});
