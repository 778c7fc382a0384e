import { describe, expect, it } from "vitest";
import { readServerConfig } from "./index.js";

describe("server settings: ORRERY_PUBLIC_URL", () => {
	const home = { ORRERY_HOME: "/tmp/orrery-config-test" };

	it("keeps the origin users reach the server at", () => {
		expect(readServerConfig({ ...home, ORRERY_PUBLIC_URL: "https://orrery.example.org/" }).publicUrl).toBe(
			"https://orrery.example.org",
		);
		expect(readServerConfig({ ...home, ORRERY_PUBLIC_URL: "http://10.0.0.5:5000" }).publicUrl).toBe(
			"http://10.0.0.5:5000",
		);
		expect(readServerConfig(home).publicUrl).toBeUndefined();
	});

	it("refuses a path (the server lives at the root of its host), another scheme, and no URL at all", () => {
		expect(() => readServerConfig({ ...home, ORRERY_PUBLIC_URL: "https://example.org/orrery/" })).toThrow(
			"ORRERY_PUBLIC_URL=https://example.org/orrery/ is not valid: the server is served at the root of its host; use https://example.org",
		);
		expect(() => readServerConfig({ ...home, ORRERY_PUBLIC_URL: "ftp://example.org" })).toThrow(
			"use an http:// or https:// address",
		);
		expect(() => readServerConfig({ ...home, ORRERY_PUBLIC_URL: "orrery.example.org" })).toThrow(
			"use the address users reach the server at",
		);
	});
});
