import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { orrery } from "../support/processes.js";

function home(): string {
	return mkdtempSync(join(tmpdir(), "orrery-cli-"));
}

describe("orrery CLI with the embedded server (no set-up)", () => {
	it("prints its version", async () => {
		const r = await orrery(["--version"], {});
		expect(r.code).toBe(0);
		expect(r.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
	});

	it("runs the hello-world example end to end and says where the outputs are", async () => {
		const h = home();
		const r = await orrery(["run", "examples/helloworld", "-p", "sleeptime=0"], { ORRERY_HOME: h });
		expect(r.stderr).toMatch(/helloworld\.1 created \(embedded server, local backend\)/);
		expect(r.stderr).toMatch(/uploaded 2 files/);
		expect(r.stdout).toMatch(/greet │ \[1\/4\] Hello Jane Doe!/);
		expect(r.stdout).toMatch(/helloworld\.1 finished/);
		expect(r.code).toBe(0);
		const output = /output:\s+(\S+greetings\.txt)/.exec(r.stdout)?.[1] as string;
		expect(output.startsWith(join(h, "workspaces"))).toBe(true);
		expect(readFileSync(output, "utf8")).toBe(
			"Hello Jane Doe!\nHello John Doe!\nHello Ada Lovelace!\nHello Edwin Hubble!\n",
		);
		// The run is in the embedded database for later commands.
		const list = await orrery(["list", "--json"], { ORRERY_HOME: h });
		expect(JSON.parse(list.stdout).items[0]).toMatchObject({ name: "helloworld.1", status: "finished" });
		const logs = await orrery(["logs", "-w", "helloworld.1"], { ORRERY_HOME: h });
		expect(logs.stdout).toMatch(/Hello Edwin Hubble!/);
		expect(logs.stdout).toMatch(/image docker\.io\/library\/python:3\.12-slim \(not used\)/);
	});

	it("takes the folder after -p pairs (orrery run -p a=1 b=2 FOLDER), and says where a .cwl document goes", async () => {
		const h = home();
		const r = await orrery(["run", "-p", "sleeptime=0", "outputfile=results/hi.txt", "examples/helloworld"], {
			ORRERY_HOME: h,
		});
		expect(r.code, r.stderr).toBe(0);
		const workspace = /workspace:\s+(\S+)/.exec(r.stdout)?.[1] as string;
		expect(readFileSync(join(workspace, "results/hi.txt"), "utf8")).toMatch(/^Hello Jane Doe!\n/);
		const cwl = await orrery(["run", "-p", "max_mag=8", "examples/cwl-star-chunks/workflow/main.cwl"], {
			ORRERY_HOME: h,
		});
		expect(cwl.code).toBe(64);
		expect(cwl.stderr).toMatch(
			/a \.cwl document comes first, its parameters after it: orrery run \S+main\.cwl -p key=value/,
		);
	});

	it("exits 1 with the step, exit code and log tail when a step fails", async () => {
		const h = home();
		const dir = mkdtempSync(join(tmpdir(), "orrery-failing-"));
		writeFileSync(
			join(dir, "reana.yaml"),
			"workflow:\n  type: serial\n  specification:\n    steps:\n      - name: bad\n        commands: ['echo nope >&2; exit 4']\n",
		);
		const r = await orrery(["run", dir], { ORRERY_HOME: h });
		expect(r.code).toBe(1);
		expect(r.stdout).toMatch(/failed: step 'bad' failed with exit code 4: last lines of its log:\nnope/);
	});

	it("rejects invalid YAML with file, line and column and exit code 65", async () => {
		const dir = mkdtempSync(join(tmpdir(), "orrery-badyaml-"));
		writeFileSync(
			join(dir, "reana.yaml"),
			"workflow:\n  type: serial\n  specification:\n    steps:\n      - commands: [echo\n",
		);
		const r = await orrery(["validate", "-f", dir], { ORRERY_HOME: home() });
		expect(r.code).toBe(65);
		expect(r.stderr).toMatch(/error: reana\.yaml:\d+:\d+: invalid YAML/);
		expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
	});

	it("rejects a command using an undefined parameter before creating anything", async () => {
		const dir = mkdtempSync(join(tmpdir(), "orrery-badparam-"));
		writeFileSync(
			join(dir, "reana.yaml"),
			"workflow:\n  type: serial\n  specification:\n    steps:\n      - commands: ['echo ${missing}']\n",
		);
		const h = home();
		const r = await orrery(["run", dir], { ORRERY_HOME: h });
		expect(r.code).toBe(65);
		expect(r.stderr).toMatch(/reana\.yaml:5:\d+: step #0 uses the parameter 'missing', which is not defined/);
		const list = await orrery(["list", "--json"], { ORRERY_HOME: h });
		expect(JSON.parse(list.stdout).total).toBe(0);
	});

	it("answers usage errors with exit code 64", async () => {
		const r = await orrery(["status"], { ORRERY_HOME: home() });
		expect(r.code).toBe(64);
		expect(r.stderr).toMatch(/which workflow\? pass -w NAME/);
		const unknown = await orrery(["frobnicate"], { ORRERY_HOME: home() });
		expect(unknown.code).toBe(64);
	});

	it("prints errors as the API's JSON body with --json", async () => {
		const r = await orrery(["status", "-w", "ghost", "--json"], { ORRERY_HOME: home() });
		expect(r.code).toBe(66);
		expect(JSON.parse(r.stdout)).toMatchObject({
			code: "not_found",
			message: expect.stringMatching(/workflow 'ghost' not found/),
		});
	});
});
