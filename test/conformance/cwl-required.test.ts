// The `required` tests of the CWL v1.2 conformance suite, each run through `orrery cwl-runner`
// (the built CLI, `npm run build` first) against one `orrery server` with SQLite and the local backend.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import {
	type ConformanceServer,
	loadConformanceTests,
	repoRoot,
	runConformanceTest,
	startConformanceServer,
	suiteFile,
} from "./cwl-conformance.js";

const hasSuite = existsSync(suiteFile);
const tests = hasSuite ? (await loadConformanceTests()).filter((t) => t.tags.includes("required")) : [];
let server: ConformanceServer | undefined;

beforeAll(async () => {
	if (!existsSync(join(repoRoot, "dist/main.js"))) throw new Error("build Orrery first: npm run build");
	server = await startConformanceServer();
}, 120_000);

afterAll(async () => {
	await server?.stop();
});

describe.runIf(hasSuite).concurrent("CWL v1.2 conformance, tag 'required'", () => {
	test("has the 84 required tests", () => {
		expect(tests).toHaveLength(84);
	});
	for (const t of tests) {
		test(`${t.id}: ${t.doc.split("\n")[0]}`, async () => {
			const result = await runConformanceTest(t, server as ConformanceServer);
			expect(result.status, result.reason).toBe("pass");
		}, 240_000);
	}
});
