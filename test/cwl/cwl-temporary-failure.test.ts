import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { orrery } from "../support/processes.js";

const tool = (marker: string) => `cwlVersion: v1.2
class: CommandLineTool
baseCommand: [sh, -c]
arguments:
  - |
    if [ -e ${marker} ]; then echo second > out.txt; else touch ${marker}; exit 3; fi
temporaryFailCodes: [3]
inputs: []
outputs:
  out:
    type: File
    outputBinding: {glob: out.txt}
`;

describe("CWL temporaryFailCodes", () => {
	it("runs the tool again after a temporary failure, and the run succeeds", async () => {
		const dir = mkdtempSync(join(tmpdir(), "orrery-cwl-temp-"));
		const marker = join(dir, "tried-once");
		writeFileSync(join(dir, "tool.cwl"), tool(marker));
		const out = join(dir, "out");
		const r = await orrery(["cwl-runner", "--quiet", "--outdir", out, join(dir, "tool.cwl")], {
			ORRERY_HOME: join(dir, "home"),
		});
		expect(r.stderr).toBe("");
		expect(r.code).toBe(0);
		expect(JSON.parse(r.stdout)).toMatchObject({ out: { basename: "out.txt" } });
		expect(readFileSync(join(out, "out.txt"), "utf8")).toBe("second\n");
	});

	it("fails the run once the retries are used up", async () => {
		const dir = mkdtempSync(join(tmpdir(), "orrery-cwl-temp-"));
		writeFileSync(
			join(dir, "tool.cwl"),
			"cwlVersion: v1.2\nclass: CommandLineTool\nbaseCommand: [sh, -c, 'exit 3']\ntemporaryFailCodes: [3]\ninputs: []\noutputs: []\n",
		);
		const r = await orrery(["run", join(dir, "tool.cwl"), "-n", "flaky"], { ORRERY_HOME: join(dir, "home") });
		expect(r.code).toBe(1);
		expect(r.stderr).toMatch(/temporary, retrying \(attempt 2 of 3\)/);
		expect(r.stderr).toMatch(/temporary, retrying \(attempt 3 of 3\)/);
		expect(r.stderr).toMatch(/flaky\.1 failed: step tool failed with exit code 3/);
	});
});
