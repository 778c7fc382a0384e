// `orrery restart -f` uploads the workflow files edited locally, `orrery diff` shows their hashes
// change, and `orrery provenance` summarises or exports a run (real CLI and server processes).
import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { orrery, type ServerProcess, startServerProcess } from "../support/processes.js";
import { mainCwl, sayCwl } from "../support/provenance-documents.js";

const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");

describe("orrery restart -f, diff and provenance against a server process", () => {
	let home: string;
	let server: ServerProcess;
	let client: Record<string, string>;
	let dir: string;

	beforeAll(async () => {
		home = mkdtempSync(join(tmpdir(), "orrery-provenance-cli-"));
		const serverEnv = { ORRERY_HOME: home };
		const token = JSON.parse(
			(await orrery(["admin", "create-user", "--email", "p@example.org", "--json"], serverEnv)).stdout,
		).token;
		server = await startServerProcess(serverEnv);
		client = {
			ORRERY_HOME: mkdtempSync(join(tmpdir(), "orrery-provenance-client-")),
			ORRERY_SERVER_URL: server.url,
			ORRERY_ACCESS_TOKEN: token,
		};
		dir = mkdtempSync(join(tmpdir(), "orrery-provenance-wf-"));
		mkdirSync(join(dir, "tools"));
		writeFileSync(
			join(dir, "reana.yaml"),
			"inputs:\n  parameters: {msg: world}\nworkflow:\n  type: cwl\n  file: main.cwl\noutputs:\n  files: [outputs/said.txt]\n",
		);
		writeFileSync(join(dir, "main.cwl"), mainCwl);
		writeFileSync(join(dir, "tools/say.cwl"), sayCwl("hello"));
		writeFileSync(join(dir, "tools/say.txt"), "Says something.");
	});
	afterAll(async () => {
		await server?.kill("SIGTERM");
		rmSync(home, { recursive: true, force: true });
		rmSync(dir, { recursive: true, force: true });
	});

	it("restart -f uploads the edited document, the restart runs it, and diff shows the hash change", async () => {
		const run = await orrery(["run", dir, "-n", "prov"], client, { timeoutMs: 120_000 });
		expect(run.code, run.stderr).toBe(0);
		writeFileSync(join(dir, "tools/say.cwl"), sayCwl("goodbye"));

		const restart = await orrery(["restart", "-w", "prov.1", "-f", join(dir, "reana.yaml"), "--follow"], client, {
			timeoutMs: 120_000,
		});
		expect(restart.code, restart.stderr).toBe(0);
		// Only what changed goes up.
		expect(restart.stdout).toMatch(/^uploaded tools\/say\.cwl$/m);
		expect(restart.stdout).not.toMatch(/uploaded main\.cwl|uploaded tools\/say\.txt/);
		expect(restart.stdout).toMatch(/prov\.1\.1 finished/);
		const out = join(dir, "out");
		expect((await orrery(["download", "-w", "prov.1.1", "outputs/said.txt", "-o", out], client)).code).toBe(0);
		expect(readFileSync(join(out, "outputs/said.txt"), "utf8")).toBe("goodbye world\n");

		const diff = await orrery(["diff", "prov.1", "prov.1.1"], client);
		expect(diff.code).toBe(0);
		expect(diff.stdout).toMatch(/Differences in workflow_files:/);
		expect(diff.stdout).toContain(`- tools/say.cwl sha256:${sha256(sayCwl("hello"))}`);
		expect(diff.stdout).toContain(`+ tools/say.cwl sha256:${sha256(sayCwl("goodbye"))}`);
		expect(diff.stdout).not.toContain("main.cwl sha256");

		// Nothing changed since: nothing is uploaded, and --json stays JSON.
		const again = await orrery(["restart", "-w", "prov.1.1", "-f", join(dir, "reana.yaml"), "--json"], client);
		expect(again.code, again.stderr).toBe(0);
		expect(JSON.parse(again.stdout)).toMatchObject({ uploaded: [], workflow_name: "prov.1.2" });
	}, 240_000);

	it("summarises a run's provenance, writes and prints its RO-Crate document, and honours REANA_WORKON", async () => {
		const summary = await orrery(["provenance", "-w", "prov.1.1"], client);
		expect(summary.code, summary.stderr).toBe(0);
		expect(summary.stdout).toMatch(/^Orrery run prov\.1\.1: finished, /);
		expect(summary.stdout).toMatch(
			new RegExp(`tools/say\\.cwl\\s+sha256:${sha256(sayCwl("goodbye")).slice(0, 12)}\\s`),
		);
		expect(summary.stdout).toMatch(new RegExp(`main\\.cwl\\s+sha256:${sha256(mainCwl).slice(0, 12)}\\s`));
		expect(summary.stdout).toMatch(/msg = world/);
		expect(summary.stdout).toMatch(
			/Jobs:\n.*STEP\s+STATUS\s+IMAGE\s+STARTED\s+FINISHED\s+NOTE\n\S*say\S*\s+finished\s+-\s+\d{4}-/,
		);
		expect(summary.stdout).toMatch(
			new RegExp(`outputs/said\\.txt\\s+sha256:${sha256("goodbye world\n").slice(0, 12)}\\s+14`),
		);

		const file = join(dir, "ro-crate-metadata.json");
		const written = await orrery(["provenance", "-w", "prov.1.1", "-o", file], client);
		expect(written.code).toBe(0);
		expect(written.stdout).toBe("");
		const crate = JSON.parse(readFileSync(file, "utf8")) as { "@graph": Array<Record<string, unknown>> };
		const root = crate["@graph"].find((e) => e["@id"] === "./");
		expect(root?.conformsTo).toContainEqual({ "@id": "https://w3id.org/ro/wfrun/workflow/0.5" });

		const json = await orrery(["provenance", "--json"], { ...client, REANA_WORKON: "prov.1.1" });
		expect(json.code, json.stderr).toBe(0);
		const printed = JSON.parse(json.stdout) as { "@graph": Array<Record<string, unknown>> };
		expect(printed["@graph"].find((e) => e["@id"] === "./")?.mainEntity).toEqual({ "@id": "main.cwl" });

		const unknown = await orrery(["provenance", "-w", "nope"], client);
		expect(unknown.code).toBe(66);
		expect(unknown.stderr.trim().split("\n")).toHaveLength(1);
		expect(unknown.stderr).toMatch(/workflow 'nope' not found/);
	}, 120_000);
});
