import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type TestDatabase, testDatabase, testDialects } from "../support/databases.js";
import { cleanEnv, orrery, orreryBin, type ServerProcess, startServerProcess } from "../support/processes.js";
import { oidcEnv, oidcService, TestBrowser } from "./oidc-browser.js";

/** Runs `orrery login`, approving the device code in the provider as `person` once the CLI prints it. */
function login(env: Record<string, string>, person: string): Promise<{ code: number; stdout: string; stderr: string }> {
	return new Promise((done, fail) => {
		const child = spawn(process.execPath, [orreryBin, "login", "--name", "test laptop"], {
			env: cleanEnv(env),
			stdio: ["ignore", "pipe", "pipe"],
		});
		let stdout = "";
		let stderr = "";
		let approving = false;
		const timer = setTimeout(() => {
			child.kill("SIGKILL");
			fail(new Error(`orrery login timed out\n${stderr}`));
		}, 60_000);
		child.stdout.on("data", (d) => {
			stdout += d;
		});
		child.stderr.on("data", (d) => {
			stderr += d;
			const url = /\(or open (\S+)\)/.exec(stderr)?.[1];
			if (url && !approving) {
				approving = true;
				new TestBrowser(person).visit(url, "never").catch(fail);
			}
		});
		child.on("close", (code) => {
			clearTimeout(timer);
			done({ code: code ?? -1, stdout, stderr });
		});
	});
}

describe.each(testDialects)("orrery token, login, logout, share and list --shared-with-me (%s)", (dialect) => {
	let serverHome: string;
	let db: TestDatabase;
	let server: ServerProcess;
	let alice: Record<string, string>;
	let bobHome: string;

	beforeAll(async () => {
		serverHome = mkdtempSync(join(tmpdir(), "orrery-identity-"));
		db = testDatabase(dialect);
		const env = { ORRERY_HOME: serverHome, ...db.env, ...oidcEnv(oidcService()) };
		const created = await orrery(["admin", "create-user", "--email", "alice@example.org", "--json"], env);
		expect(created.code).toBe(0);
		server = await startServerProcess(env);
		alice = {
			ORRERY_HOME: mkdtempSync(join(tmpdir(), "orrery-alice-")),
			ORRERY_SERVER_URL: server.url,
			ORRERY_ACCESS_TOKEN: JSON.parse(created.stdout).token,
		};
		bobHome = mkdtempSync(join(tmpdir(), "orrery-bob-"));
	});

	afterAll(async () => {
		await server?.kill("SIGTERM");
		await db?.drop();
		for (const dir of [serverHome, alice?.ORRERY_HOME, bobHome]) if (dir) rmSync(dir, { recursive: true, force: true });
	});

	it("creates a token (value on stdout only), lists it and revokes it", async () => {
		const made = await orrery(["token", "create", "--name", "ci", "--scopes", "read", "--expires-in-days", "5"], alice);
		expect(made.code).toBe(0);
		const value = made.stdout.trim();
		expect(value).toMatch(/^orr_[0-9A-Za-z]{43}$/);
		expect(made.stderr).toMatch(/'ci' \(read\), expires .*shown only now/);

		const list = await orrery(["token", "list"], alice);
		expect(list.code).toBe(0);
		expect(list.stdout).toMatch(new RegExp(`${value.slice(0, 12)}\\s+ci\\s+read\\s+active`));
		expect(list.stdout).not.toContain(value);

		const ping = await orrery(["ping"], { ...alice, ORRERY_ACCESS_TOKEN: value });
		expect(ping.code).toBe(0);
		const revoke = await orrery(["token", "revoke", value.slice(0, 12)], alice);
		expect(revoke.code).toBe(0);
		const after = await orrery(["ping"], { ...alice, ORRERY_ACCESS_TOKEN: value });
		expect(after.code).toBe(77);
		expect(after.stderr).toMatch(/revoked/);
	});

	it("logs in through the device flow, stores the token with mode 0600 and uses it without any setting", async () => {
		const bob = { ORRERY_HOME: bobHome, ORRERY_SERVER_URL: server.url };
		const res = await login(bob, "bob");
		expect(res.stderr).toMatch(/To log in, open http:\/\/127\.0\.0\.1:9080\/\S+ and enter the code \S+/);
		expect(res.code).toBe(0);
		expect(res.stdout).toMatch(/Logged in to .* as bob@example\.test \(groups: users\)/);
		const file = join(bobHome, "config.json");
		expect(statSync(file).mode & 0o777).toBe(0o600);
		const stored = JSON.parse(readFileSync(file, "utf8"));
		expect(stored.default_server).toBe(server.url);
		expect(stored.logins[server.url].access_token).toMatch(/^orr_/);

		// No server or token in the environment: the stored login is used.
		const ping = await orrery(["ping"], { ORRERY_HOME: bobHome });
		expect(ping.code).toBe(0);
		expect(ping.stdout).toMatch(/Authenticated as: Bob Test <bob@example\.test>/);
		const tokens = await orrery(["token", "list", "--json"], { ORRERY_HOME: bobHome });
		expect(JSON.parse(tokens.stdout).items[0]).toMatchObject({ kind: "login", name: "test laptop" });
	});

	it("shares a run with a user who then lists it with --shared-with-me and reads it by owner and name", async () => {
		const created = await orrery(["run", "examples/helloworld", "-p", "sleeptime=0"], alice);
		expect(created.code).toBe(0);
		const add = await orrery(
			[
				"share-add",
				"-w",
				"helloworld.1",
				"--user",
				"bob@example.test",
				"--permission",
				"run",
				"--valid-until",
				"2999-01-31",
			],
			alice,
		);
		expect(add.code).toBe(0);
		expect(add.stdout).toMatch(/helloworld\.1 has been shared with bob@example\.test \(run until 2999-01-31/);
		const status = await orrery(["share-status", "-w", "helloworld.1"], alice);
		expect(status.stdout).toMatch(/bob@example\.test\s+run\s+2999-01-31T23:59:59\.999Z\s+helloworld\.1/);

		const bobs = { ORRERY_HOME: bobHome };
		const list = await orrery(["list", "--shared-with-me"], bobs);
		expect(list.code).toBe(0);
		expect(list.stdout).toMatch(/alice@example\.org\s+helloworld\.1\s/);
		const own = JSON.parse((await orrery(["list", "--json"], bobs)).stdout);
		expect(own.total).toBe(0);
		const byName = await orrery(["status", "-w", "alice@example.org:helloworld.1"], bobs);
		expect(byName.code).toBe(0);
		expect(byName.stdout).toMatch(/helloworld\.1\s+finished/);

		const remove = await orrery(["share-remove", "-w", "helloworld.1", "--user", "bob@example.test"], alice);
		expect(remove.code).toBe(0);
		// Not shared any more: by name, as unknown as a run that does not exist (names cannot be found out by trying).
		const gone = await orrery(["status", "-w", "alice@example.org:helloworld.1"], bobs);
		expect(gone.code).toBe(66);
		expect(gone.stderr).toMatch(/workflow 'alice@example\.org:helloworld\.1' not found/);
	});

	it("logs out: revokes the stored token on the server and forgets it", async () => {
		const stored = JSON.parse(readFileSync(join(bobHome, "config.json"), "utf8"));
		const token = stored.logins[server.url].access_token as string;
		const out = await orrery(["logout"], { ORRERY_HOME: bobHome });
		expect(out.code).toBe(0);
		expect(out.stdout).toMatch(/Logged out of .* \(token orr_\w{8}… revoked\)/);
		const after = JSON.parse(readFileSync(join(bobHome, "config.json"), "utf8"));
		expect(after).toEqual({ logins: {} });
		const res = await fetch(`${server.url}/api/you`, { headers: { authorization: `Bearer ${token}` } });
		expect(res.status).toBe(403);
		const again = await orrery(["logout", "--server", server.url], { ORRERY_HOME: bobHome });
		expect(again.stderr).toMatch(/not logged in/);
	});
});
