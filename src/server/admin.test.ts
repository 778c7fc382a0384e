import { describe, expect, it } from "vitest";
import { parseQuotaLimit } from "./admin.js";

describe("quota limits with units", () => {
	it.each([
		["cpu", "10h", 36_000_000],
		["cpu", "90m", 5_400_000],
		["cpu", "1500", 1500],
		["disk", "50G", 50 * 1024 ** 3],
		["disk", "1.5GiB", 1.5 * 1024 ** 3],
		["disk", "0", 0],
	] as const)("reads %s limit %s", (resource, text, expected) => {
		expect(parseQuotaLimit(resource, text)).toBe(expected);
	});

	it("refuses a unit that does not fit the resource", () => {
		expect(() => parseQuotaLimit("cpu", "50G")).toThrow(/not a cpu limit; write e.g. 10h/);
		expect(() => parseQuotaLimit("disk", "lots")).toThrow(/not a disk limit/);
	});
});
