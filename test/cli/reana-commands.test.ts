import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { orrery, type ServerProcess, startServerProcess } from "../support/processes.js";

describe("orrery's REANA-style commands against a server process", () => {
	let home: string;
	let server: ServerProcess;
	let client: Record<string, string>;
	let serverEnv: Record<string, string>;

	beforeAll(async () => {
		home = mkdtempSync(join(tmpdir(), "orrery-reana-cli-"));
		serverEnv = { ORRERY_HOME: home };
		const token = JSON.parse(
			(await orrery(["admin", "create-user", "--email", "r@example.org", "--json"], serverEnv)).stdout,
		).token;
		server = await startServerProcess(serverEnv);
		client = {
			ORRERY_HOME: mkdtempSync(join(tmpdir(), "orrery-reana-client-")),
			ORRERY_SERVER_URL: server.url,
			ORRERY_ACCESS_TOKEN: token,
		};
	});
	afterAll(async () => {
		await server?.kill("SIGTERM");
		rmSync(home, { recursive: true, force: true });
	});

	it("adds, lists and deletes secrets without ever printing values", async () => {
		const file = join(mkdtempSync(join(tmpdir(), "orrery-secret-")), "key.pem");
		writeFileSync(file, "KEY");
		const add = await orrery(["secrets", "add", "--env", "PASSWORD=hunter2", "--file", file], client);
		expect(add.code).toBe(0);
		const list = await orrery(["secrets", "list"], client);
		expect(list.stdout).toMatch(/PASSWORD\s+env/);
		expect(list.stdout).toMatch(/key\.pem\s+file/);
		expect(list.stdout).not.toMatch(/hunter2/);
		const again = await orrery(["secrets", "add", "--env", "PASSWORD=x"], client);
		expect(again.code).toBe(1);
		expect(again.stderr).toMatch(/already exist; pass overwrite/);
		const missing = await orrery(["secrets", "delete", "nope"], client);
		expect(missing.code).toBe(66);
		expect(missing.stderr).toMatch(/not found: nope/);
		expect((await orrery(["secrets", "delete", "PASSWORD", "key.pem"], client)).code).toBe(0);
	});

	it("restarts a run from a step, then diffs, lists rules, measures, moves and prunes", async () => {
		const dir = mkdtempSync(join(tmpdir(), "orrery-restart-"));
		writeFileSync(
			join(dir, "reana.yaml"),
			[
				"inputs:",
				"  parameters: {n: 1}",
				"workflow:",
				"  type: serial",
				"  specification:",
				"    steps:",
				"      - {name: first, commands: ['echo first >> trace.txt']}",
				"      - {name: second, commands: ['echo second ${n} >> trace.txt']}",
				"workspace:",
				"  retention_days: {'trace.txt': 30}",
			].join("\n"),
		);
		expect((await orrery(["run", dir, "-n", "again"], client)).code).toBe(0);
		const restart = await orrery(["restart", "-w", "again.1", "-o", "FROM=second", "-p", "n=2", "--follow"], client);
		expect(restart.stdout).toMatch(/again\.1\.1 finished/);
		const trace = await orrery(["download", "-w", "again.1.1", "trace.txt", "-o", dir], client);
		expect(trace.code).toBe(0);
		const { readFileSync } = await import("node:fs");
		expect(readFileSync(join(dir, "trace.txt"), "utf8")).toBe("first\nsecond 1\nsecond 2\n");
		const diff = await orrery(["diff", "again.1", "again.1.1"], client);
		expect(diff.stdout).toMatch(/Differences in parameters:/);
		expect(diff.stdout).toMatch(/\+\s+"n": "2"/);
		expect((await orrery(["retention-rules", "-w", "again.1"], client)).stdout).toMatch(/trace\.txt\s+30/);
		expect((await orrery(["du", "-w", "again.1", "-s"], client)).stdout).toMatch(/\d+ Bytes\s+\./);
		expect((await orrery(["du", "-w", "again.1"], client)).stdout).toMatch(/\d+ Bytes\s+\.\/trace\.txt/);
		const missing = await orrery(["rm", "-w", "again.1", "nope.txt"], client);
		expect(missing.code).toBe(66);
		expect(missing.stderr).toMatch(/nope\.txt did not match any existing file/);
		expect((await orrery(["mv", "-w", "again.1", "trace.txt", "old/trace.txt"], client)).stdout).toMatch(
			/successfully moved/,
		);
		expect((await orrery(["prune", "-w", "again.1"], client)).stdout).toMatch(/1 file deleted/);
		expect((await orrery(["quota"], client)).stdout).toMatch(/cpu\s+\S+/);
	});

	it("sets quotas with the admin command and refuses new runs over them", async () => {
		const set = await orrery(
			["admin", "quota-set", "--email", "r@example.org", "--resource", "disk", "--limit", "1"],
			serverEnv,
		);
		expect(set.code).toBe(0);
		const refused = await orrery(["create", "-f", "examples/helloworld"], client);
		expect(refused.code).toBe(77);
		expect(refused.stderr).toMatch(/disk quota exceeded/);
		const bad = await orrery(
			["admin", "quota-set", "--email", "r@example.org", "--resource", "cpu", "--limit", "5G"],
			serverEnv,
		);
		expect(bad.code).toBe(65);
		await orrery(["admin", "quota-set", "--email", "r@example.org", "--resource", "disk", "--limit", "0"], serverEnv);
	});
});
