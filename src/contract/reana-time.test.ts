import { describe, expect, it } from "vitest";
import { parseApiTime, toReanaTime, toReanaTimeOrNull } from "./reana-time.js";

describe("REANA's timestamps", () => {
	it("writes UTC to the second without a zone, as reana-client's strptime('%Y-%m-%dT%H:%M:%S') reads it", () => {
		expect(toReanaTime("2026-11-28T12:05:50.936Z")).toBe("2026-11-28T12:05:50");
		expect(toReanaTime(new Date(Date.UTC(2026, 0, 2, 3, 4, 5, 999)))).toBe("2026-01-02T03:04:05");
		expect(toReanaTime("2026-11-28T12:05:50")).toBe("2026-11-28T12:05:50");
		expect(toReanaTimeOrNull(null)).toBeNull();
	});

	it("reads the zone-less form as UTC and an ISO timestamp with its zone", () => {
		expect(parseApiTime("2026-11-28T12:05:50")).toBe(Date.UTC(2026, 10, 28, 12, 5, 50));
		expect(parseApiTime("2026-11-28T12:05:50.250+01:00")).toBe(Date.UTC(2026, 10, 28, 11, 5, 50, 250));
	});
});
