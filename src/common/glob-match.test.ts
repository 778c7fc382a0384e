import { describe, expect, test } from "vitest";
import { GlobTooLargeError, globPathMatcher, globSegmentMatcher } from "./glob-match.js";

describe("glob matching in linear time", () => {
	test("paths: * within a folder, ** across folders (none too), dots by option", () => {
		const m = (pattern: string, path: string, dot = true) => globPathMatcher(pattern, { dot })(path);
		expect(m("*.txt", "a.txt")).toBe(true);
		expect(m("*.txt", "results/a.txt")).toBe(false);
		expect(m("results/*.txt", "results/a.txt")).toBe(true);
		expect(m("**/*.txt", "a.txt")).toBe(true);
		expect(m("**/*.txt", "x/y/z/a.txt")).toBe(true);
		expect(m("data/**", "data")).toBe(true);
		expect(m("data/**", "data/a/b.fits")).toBe(true);
		expect(m("data/**", "database/a")).toBe(false);
		expect(m("a/**/b/*.csv", "a/b/x.csv")).toBe(true);
		expect(m("a/**/b/*.csv", "a/1/2/b/x.csv")).toBe(true);
		expect(m("a/**/b/*.csv", "a/1/2/c/x.csv")).toBe(false);
		expect(m("{plots,results}/*.{png,csv}", "plots/p.png")).toBe(true);
		expect(m("sample[0-9].csv", "sample7.csv")).toBe(true);
		expect(m("sample[!0-9].csv", "sample7.csv")).toBe(false);
		expect(m("sample?.csv", "sample10.csv")).toBe(false);
		// Dots: like any character with the option (as the workspace API lists), POSIX rules without.
		expect(m("*", ".hidden")).toBe(true);
		expect(m("*", ".hidden", false)).toBe(false);
		expect(m("**/x", ".git/x", false)).toBe(false);
		expect(m("**/x", ".git/x")).toBe(true);
		expect(m(".*", ".hidden", false)).toBe(true);
	});

	test("patterns that make regular expressions backtrack for minutes take milliseconds", () => {
		const started = Date.now();
		const evil = `${"*a".repeat(30)}*b`;
		expect(globPathMatcher(evil, { dot: true })("a".repeat(5000))).toBe(false);
		expect(
			globPathMatcher(`**/${"**/".repeat(30)}*a*a*a*a*a*a*b`, { dot: true })(`${"x/".repeat(200)}${"a".repeat(200)}`),
		).toBe(false);
		expect(globSegmentMatcher(evil)(`${"a".repeat(200)}b`)).toBe(true);
		expect(Date.now() - started).toBeLessThan(2000);
	});

	test("braces that expand to too many alternatives are refused", () => {
		expect(() => globSegmentMatcher("{a,b}{c,d}{e,f}{g,h}{i,j}{k,l}{m,n}{o,p}{q,r}{s,t}{u,v}")).toThrow(
			GlobTooLargeError,
		);
	});
});
