// `orrery rm` reports each path it could not delete with the server's reason and exits non-zero (as
// reana-client's rm exits 1), and `orrery du` lists folders with their totals, as REANA's du does.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { orrery, type ServerProcess, startServerProcess } from "../support/processes.js";

const notEmpty =
	"it is a folder that is not empty; name the folder itself (not a pattern) to delete it with everything in it";

describe("orrery rm and du against a server process", () => {
	let home: string;
	let server: ServerProcess;
	let client: Record<string, string>;
	let ws: string;

	beforeAll(async () => {
		home = mkdtempSync(join(tmpdir(), "orrery-file-cli-"));
		const serverEnv = { ORRERY_HOME: home };
		const token = JSON.parse(
			(await orrery(["admin", "create-user", "--email", "files@example.org", "--json"], serverEnv)).stdout,
		).token as string;
		server = await startServerProcess(serverEnv);
		client = {
			ORRERY_HOME: mkdtempSync(join(tmpdir(), "orrery-file-client-")),
			ORRERY_SERVER_URL: server.url,
			ORRERY_ACCESS_TOKEN: token,
		};
		const spec = { workflow: { type: "serial", specification: { steps: [{ name: "s", commands: ["true"] }] } } };
		const headers = { authorization: `Bearer ${token}`, "content-type": "application/json" };
		await fetch(`${server.url}/api/workflows?workflow_name=files`, {
			method: "POST",
			headers,
			body: JSON.stringify(spec),
		});
		const status = (await (await fetch(`${server.url}/api/workflows/files/status`, { headers })).json()) as {
			workspace_path: string;
		};
		ws = status.workspace_path;
		mkdirSync(join(ws, "scratch/full"), { recursive: true });
		mkdirSync(join(ws, "results"));
		writeFileSync(join(ws, "scratch/a.tmp"), "tmp");
		writeFileSync(join(ws, "scratch/full/b.txt"), "b\n");
		writeFileSync(join(ws, "c.txt"), "c\n");
		writeFileSync(join(ws, "results/out.txt"), "world\n");
	});
	afterAll(async () => {
		await server?.kill("SIGTERM");
		rmSync(home, { recursive: true, force: true });
	});

	it("lists folders with the total of what they hold, and the workspace as '.'", async () => {
		const du = await orrery(["du", "-w", "files"], client);
		expect(du.code, du.stderr).toBe(0);
		expect(du.stdout).toMatch(/^6 Bytes\s+\.\/results\/out\.txt$/m);
		expect(du.stdout).toMatch(/^6 Bytes\s+\.\/results$/m);
		expect(du.stdout).toMatch(/^5 Bytes\s+\.\/scratch$/m);
		expect(du.stdout).toMatch(/^13 Bytes\s+\.$/m);
	});

	it("prints what it deleted and each path it could not delete with the reason, goes on, and exits 1", async () => {
		const rm = await orrery(["rm", "-w", "files", "scratch/*", "c.txt"], client);
		expect(rm.code).toBe(1);
		expect(rm.stdout).toBe("deleted scratch/a.tmp (3 bytes)\ndeleted c.txt (2 bytes)\n");
		expect(rm.stderr).toContain(`could not delete scratch/full: ${notEmpty}\n`);
		expect(rm.stderr).toContain("error: could not delete 1 of 3 files and folders (see above)");
	});

	it("answers the deleted and failed paths in --json, in the error body when any failed", async () => {
		writeFileSync(join(ws, "scratch/again.tmp"), "again");
		const failed = await orrery(["rm", "-w", "files", "scratch/*", "--json"], client);
		expect(failed.code).toBe(1);
		expect(JSON.parse(failed.stdout)).toEqual({
			message: "could not delete 1 of 2 files and folders",
			code: "conflict",
			details: { deleted: { "scratch/again.tmp": { size: 5 } }, failed: { "scratch/full": { error: notEmpty } } },
		});
		const done = await orrery(["rm", "-w", "files", "scratch", "results/out.txt", "--json"], client);
		expect(done.code, done.stderr).toBe(0);
		expect(JSON.parse(done.stdout)).toEqual({
			deleted: { "scratch/full/b.txt": { size: 2 }, "results/out.txt": { size: 6 } },
			failed: {},
		});
	});
});
