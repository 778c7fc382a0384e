import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { localizer } from "./cwl-runner-command.js";

describe("workspace paths in cwl-runner's messages", () => {
	it("become the user's own paths, relative to the current folder, and nothing else changes", () => {
		const localize = localizer([
			{ local: join(process.cwd(), "tools", "a.cwl"), remote: "inputs/tools/a.cwl" },
			{ local: join(process.cwd(), "a.cwl"), remote: "inputs/a.cwl" },
		]);
		expect(localize("inputs/tools/a.cwl:5:1: input 'x': the required input 'x' is missing")).toBe(
			"tools/a.cwl:5:1: input 'x': the required input 'x' is missing",
		);
		expect(localize("step 'b' of inputs/a.cwl:3: stdout: failed")).toBe("step 'b' of a.cwl:3: stdout: failed");
		expect(localize("read 'inputs/a.cwl' and (inputs/tools/a.cwl)")).toBe("read 'a.cwl' and (tools/a.cwl)");
		// Not a whole path: left alone.
		expect(localize("inputs/a.cwl.bak:1: x; myinputs/a.cwl:2")).toBe("inputs/a.cwl.bak:1: x; myinputs/a.cwl:2");
		expect(localizer([])("inputs/a.cwl:1")).toBe("inputs/a.cwl:1");
	});
});
