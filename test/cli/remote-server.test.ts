import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type TestDatabase, testDatabase, testDialects } from "../support/databases.js";
import { orrery, type ServerProcess, startServerProcess } from "../support/processes.js";

describe.each(testDialects)("orrery CLI against a separately started server (%s)", (dialect) => {
	let home: string;
	let db: TestDatabase;
	let server: ServerProcess;
	let token: string;
	let serverEnv: Record<string, string>;
	let client: Record<string, string>;

	beforeAll(async () => {
		home = mkdtempSync(join(tmpdir(), "orrery-remote-"));
		db = testDatabase(dialect);
		serverEnv = { ORRERY_HOME: home, ...db.env };
		const created = await orrery(["admin", "create-user", "--email", "alice@example.org", "--json"], serverEnv);
		expect(created.stderr).toBe("");
		expect(created.code).toBe(0);
		token = JSON.parse(created.stdout).token;
		expect(token).toMatch(/^orr_[0-9A-Za-z]{43}$/);
		server = await startServerProcess(serverEnv);
		// A separate home for the client proves it does not touch the server's files.
		client = {
			ORRERY_HOME: mkdtempSync(join(tmpdir(), "orrery-client-")),
			ORRERY_SERVER_URL: server.url,
			ORRERY_ACCESS_TOKEN: token,
		};
	});

	afterAll(async () => {
		await server?.kill("SIGTERM");
		await db?.drop();
		rmSync(home, { recursive: true, force: true });
	});

	it("pings and says who is logged in", async () => {
		const r = await orrery(["ping"], client);
		expect(r.code).toBe(0);
		expect(r.stdout).toMatch(/Authenticated as: <alice@example\.org>/);
		expect(r.stdout).toMatch(new RegExp(`REANA server: ${server.url}\\n`));
	});

	it("runs the example and then lists, inspects, downloads and deletes it", async () => {
		const run = await orrery(["run", "examples/helloworld", "-p", "sleeptime=0"], client);
		expect(run.stdout).toMatch(/helloworld\.1 finished/);
		expect(run.stdout).toMatch(
			/output:\s+results\/greetings\.txt\s+\(orrery download -w helloworld\.1 results\/greetings\.txt\)/,
		);
		expect(run.code).toBe(0);

		const list = JSON.parse((await orrery(["list", "--json"], client)).stdout);
		expect(list.items.map((i: { name: string }) => i.name)).toContain("helloworld.1");

		const status = await orrery(["status", "-w", "helloworld.1"], client);
		expect(status.stdout).toMatch(/helloworld\.1\s+finished\s+1\/1/);

		const ls = JSON.parse((await orrery(["ls", "-w", "helloworld", "--json"], client)).stdout);
		expect(ls.items.map((i: { name: string }) => i.name).sort()).toEqual([
			"code/helloworld.py",
			"data/names.txt",
			"results/greetings.txt",
		]);

		const out = mkdtempSync(join(tmpdir(), "orrery-dl-"));
		const dl = await orrery(["download", "-w", "helloworld.1", "-o", out], client);
		expect(dl.code).toBe(0);
		expect(readFileSync(join(out, "results/greetings.txt"), "utf8")).toMatch(/^Hello Jane Doe!\n/);

		const del = await orrery(["delete", "-w", "helloworld.1"], client);
		expect(del.code).toBe(0);
		const gone = await orrery(["status", "-w", "helloworld.1"], client);
		expect(gone.code).toBe(66);
	});

	it("creates, uploads, starts with REANA_WORKON, follows logs and stops", async () => {
		const reanaEnv = {
			ORRERY_HOME: client.ORRERY_HOME as string,
			REANA_SERVER_URL: server.url,
			REANA_ACCESS_TOKEN: token,
		};
		const create = await orrery(["create", "-f", "examples/helloworld", "-n", "greeter"], reanaEnv);
		expect(create.code).toBe(0);
		expect(create.stdout.trim()).toBe("greeter.1");
		const env = { ...reanaEnv, REANA_WORKON: "greeter.1" };
		const upload = await orrery(["upload", "-f", "examples/helloworld"], env);
		expect(upload.stderr).toMatch(/uploaded 2 files/);
		const start = await orrery(["start", "-p", "sleeptime=30"], env);
		expect(start.stdout).toMatch(/greeter\.1 has been queued/);
		// Wait for the greeting loop to print something, then stop it.
		for (let i = 0; i < 100; i++) {
			const logs = await orrery(["logs", "--json"], env);
			if (/Hello Jane Doe/.test(logs.stdout)) break;
			await new Promise((r) => setTimeout(r, 200));
		}
		const stop = await orrery(["stop"], env);
		expect(stop.stdout).toMatch(/successfully stopped/);
		const follow = await orrery(["logs", "--follow"], env);
		expect(follow.code).toBe(0);
		expect(follow.stdout).toMatch(/greet │ \[1\/4\] Hello Jane Doe!/);
		expect(follow.stderr).toMatch(/workflow stopped by request/);
	});

	it("exits 77 with a wrong token and 69 when the server is unreachable", async () => {
		const wrong = await orrery(["list"], { ...client, ORRERY_ACCESS_TOKEN: "orr_wrong" });
		expect(wrong.code).toBe(77);
		expect(wrong.stderr).toMatch(/the access token is not valid/);
		const down = await orrery(["list"], { ...client, ORRERY_SERVER_URL: "http://127.0.0.1:9" });
		expect(down.code).toBe(69);
		expect(down.stderr).toMatch(/cannot reach the Orrery server at http:\/\/127\.0\.0\.1:9/);
	});

	it("revokes a token with the admin command", async () => {
		const grant = JSON.parse(
			(await orrery(["admin", "token-grant", "--email", "alice@example.org", "--scopes", "read", "--json"], serverEnv))
				.stdout,
		);
		const readOnly = { ...client, ORRERY_ACCESS_TOKEN: grant.token };
		expect((await orrery(["list"], readOnly)).code).toBe(0);
		const create = await orrery(["create", "-f", "examples/helloworld"], readOnly);
		expect(create.code).toBe(77);
		expect(create.stderr).toMatch(/lacks the 'write' scope/);
		expect((await orrery(["admin", "token-revoke", grant.prefix], serverEnv)).code).toBe(0);
		const after = await orrery(["list"], readOnly);
		expect(after.code).toBe(77);
		expect(after.stderr).toMatch(/revoked/);
	});
});
