// ORRERY_WORKSPACE_ROOT_TEMPLATE through the API: each user's workspaces in their own site folder,
// with runs, prune, retention and delete working there, and hostile emails kept inside.
import { existsSync } from "node:fs";
import { mkdtemp, readdir, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { applyDueRetentionRules } from "../../src/scheduler/index.js";
import { testDialects } from "../support/databases.js";
import { startTestServer, type TestServer, waitForRetentionRules, waitForStatus } from "../support/test-server.js";

const spec = {
	inputs: { files: ["data/names.txt"] },
	outputs: { files: ["results/out.txt"] },
	workspace: { retention_days: { "scratch/": 1 } },
	workflow: {
		type: "serial",
		specification: {
			steps: [
				{
					name: "greet",
					commands: [
						"mkdir -p results scratch",
						"sed 's/^/hello /' data/names.txt > results/out.txt",
						"echo tmp > scratch/t.txt && echo log > notes.log",
					],
				},
			],
		},
	},
};

describe.each(testDialects)("workspaces in one site folder per user (%s)", (dialect) => {
	let t: TestServer;
	let sites: string;
	let alice: { id: string; token: string };

	beforeAll(async () => {
		sites = await mkdtemp(join(tmpdir(), "orrery-sites-"));
		t = await startTestServer(dialect, {
			env: { ORRERY_WORKSPACE_ROOT_TEMPLATE: `${sites}/projects/{user}/orrery` },
		});
		alice = await t.user("alice@example.org");
	});
	afterAll(async () => {
		await t?.close();
		await rm(sites, { recursive: true, force: true });
	});

	async function status(token: string, w: string) {
		return (await waitForStatus(t, token, w)) as { status: string; message: string; workspace_path: string };
	}

	it("runs a serial workflow in the user's folder, prunes, applies retention and deletes it there", async () => {
		const created = await t.call("POST", "/api/workflows?workflow_name=lustre", { token: alice.token, body: spec });
		expect(created.status).toBe(201);
		const { workflow_id: id } = (await created.json()) as { workflow_id: string };
		const folder = join(sites, "projects", "alice", "orrery");
		const ws = join(folder, "workflows", id);
		expect((await stat(folder)).mode & 0o777).toBe(0o700);
		expect((await readFile(join(folder, ".orrery-owner"), "utf8")).trim()).toBe(alice.id);
		expect(existsSync(join(t.config.workspaceRoot, "users"))).toBe(false);

		const up = await t.call("POST", "/api/workflows/lustre/workspace?file_name=data/names.txt", {
			token: alice.token,
			raw: "Ada\nGrace\n",
		});
		expect(up.status).toBe(200);
		await t.call("POST", "/api/workflows/lustre/start", { token: alice.token, body: {} });
		const done = await status(alice.token, "lustre");
		expect(done.status, done.message).toBe("finished");
		expect(done.workspace_path).toBe(ws);
		expect(await readFile(join(ws, "results/out.txt"), "utf8")).toBe("hello Ada\nhello Grace\n");
		const download = await t.call("GET", "/api/workflows/lustre/workspace/results/out.txt", { token: alice.token });
		expect(await download.text()).toBe("hello Ada\nhello Grace\n");

		// Retention deletes scratch/ when its day comes; prune then deletes the rest but inputs and outputs.
		await waitForRetentionRules(t, alice.token, "lustre");
		await applyDueRetentionRules(t.server.db, new Date(Date.now() + 1.5 * 86_400_000), pino({ level: "silent" }));
		expect(existsSync(join(ws, "scratch/t.txt"))).toBe(false);
		expect(existsSync(join(ws, "notes.log"))).toBe(true);
		const pruned = await t.call("POST", "/api/workflows/lustre/prune", { token: alice.token });
		expect(pruned.status).toBe(200);
		expect(existsSync(join(ws, "notes.log"))).toBe(false);
		expect(existsSync(join(ws, "data/names.txt")) && existsSync(join(ws, "results/out.txt"))).toBe(true);

		const del = await t.call("PUT", "/api/workflows/lustre/status?status=deleted", {
			token: alice.token,
			body: { workspace: true },
		});
		expect(del.status).toBe(200);
		expect(existsSync(ws)).toBe(false);
		expect(await readdir(join(folder, "workflows"))).toEqual([]);
		expect(existsSync(join(folder, ".orrery-owner"))).toBe(true);
	});

	it("restarts a run in the same workspace of the user's folder", async () => {
		const body = { workflow: { type: "serial", specification: { steps: [{ commands: ["echo again >> n.txt"] }] } } };
		await t.call("POST", "/api/workflows?workflow_name=again", { token: alice.token, body });
		await t.call("POST", "/api/workflows/again/start", { token: alice.token, body: {} });
		const first = await status(alice.token, "again");
		expect(first.status, first.message).toBe("finished");
		const restart = await t.call("POST", "/api/workflows/again/start", {
			token: alice.token,
			body: { restart: true },
		});
		expect(restart.status).toBe(200);
		const second = await status(alice.token, "again.1.1");
		expect(second.status, second.message).toBe("finished");
		expect(second.workspace_path).toBe(first.workspace_path);
		expect(first.workspace_path.startsWith(join(sites, "projects", "alice", "orrery", "workflows"))).toBe(true);
		expect(await readFile(join(first.workspace_path, "n.txt"), "utf8")).toBe("again\nagain\n");
	});

	it("reports each user's own folder as their workspace in /api/info", async () => {
		const info = async (token: string) =>
			(await (await t.call("GET", "/api/info", { token })).json()) as Record<string, { value: unknown }>;
		const mine = await info(alice.token);
		expect(mine.default_workspace?.value).toBe(join(sites, "projects", "alice", "orrery", "workflows"));
		expect(mine.workspaces_available?.value).toEqual([join(sites, "projects", "alice", "orrery", "workflows")]);
		// An email that cannot name a folder still gets an answer (creating a run says why it fails).
		const odd = await t.user("../odd@example.org");
		expect((await info(odd.token)).default_workspace?.value).toBe(`${sites}/projects/{user}/orrery/workflows`);
	});

	it("refuses a user whose email would leave the sites folder, leaving no run and no folder behind", async () => {
		const mallory = await t.user("../../../escape@example.org");
		const res = await t.call("POST", "/api/workflows?workflow_name=evil", { token: mallory.token, body: spec });
		expect(res.status).toBe(400);
		expect(((await res.json()) as { message: string }).message).toMatch(/cannot be a folder name/);
		expect(await readdir(join(sites, "projects"))).toEqual(["alice"]);
		expect(await readdir(sites)).toEqual(["projects"]);
		const list = (await (await t.call("GET", "/api/workflows", { token: mallory.token })).json()) as { total: number };
		expect(list.total).toBe(0);
	});

	it("refuses a second account whose email has the same local part", async () => {
		const other = await t.user("alice@elsewhere.org");
		const res = await t.call("POST", "/api/workflows?workflow_name=clash", { token: other.token, body: spec });
		expect(res.status).toBe(409);
		expect(((await res.json()) as { message: string }).message).toMatch(/belongs to another user/);
		const list = (await (await t.call("GET", "/api/workflows", { token: other.token })).json()) as { total: number };
		expect(list.total).toBe(0);
	});
});
