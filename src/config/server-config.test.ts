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

describe("server settings: ORRERY_SESSIONS_URL", () => {
	const home = { ORRERY_HOME: "/tmp/orrery-config-test", ORRERY_PUBLIC_URL: "https://orrery.example.org" };

	it("keeps the origin interactive sessions are served at, and none without it", () => {
		expect(readServerConfig({ ...home, ORRERY_SESSIONS_URL: "https://sessions.orrery.example.org/" }).sessionsUrl).toBe(
			"https://sessions.orrery.example.org",
		);
		expect(readServerConfig(home).sessionsUrl).toBeUndefined();
	});

	it("refuses the server's own origin, its host name with another port, a path and what is not a URL", () => {
		expect(() => readServerConfig({ ...home, ORRERY_SESSIONS_URL: "https://orrery.example.org" })).toThrow(
			"ORRERY_SESSIONS_URL=https://orrery.example.org is not valid: it must be another host name than the server's public address (ORRERY_PUBLIC_URL=https://orrery.example.org)",
		);
		expect(() => readServerConfig({ ...home, ORRERY_SESSIONS_URL: "https://orrery.example.org:8443" })).toThrow(
			"cookies do not keep ports apart",
		);
		expect(() => readServerConfig({ ORRERY_HOME: "/tmp/x", ORRERY_SESSIONS_URL: "http://127.0.0.1:6000" })).toThrow(
			"it must be another host name than the address the server listens at (http://127.0.0.1:5000)",
		);
		expect(() => readServerConfig({ ...home, ORRERY_SESSIONS_URL: "https://sessions.example.org/nb" })).toThrow(
			"sessions are served at the root of their host; use https://sessions.example.org",
		);
		expect(() => readServerConfig({ ...home, ORRERY_SESSIONS_URL: "sessions.example.org" })).toThrow(
			"ORRERY_SESSIONS_URL=sessions.example.org is not valid: use the address interactive sessions are served at",
		);
		expect(() => readServerConfig({ ...home, ORRERY_SESSIONS_URL: "ftp://sessions.example.org" })).toThrow(
			"use an http:// or https:// address",
		);
	});
});
