import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { testDatabase, testDialects } from "../support/databases.js";
import { orrery, type ServerProcess, startServerProcess } from "../support/processes.js";

const spec = {
	workflow: {
		type: "serial",
		specification: {
			steps: [
				{ name: "long", commands: ["echo start >> runs.log; sleep 4; echo end >> runs.log"] },
				{ name: "after", commands: ["echo after >> runs.log"] },
			],
		},
	},
};

describe.each(testDialects)("kill -9 of the server while a job runs (%s)", (dialect) => {
	const cleanup: Array<() => Promise<void>> = [];
	afterAll(async () => {
		for (const c of cleanup.reverse()) await c();
	});

	it("continues the workflow after a restart, running every job exactly once", async () => {
		const home = mkdtempSync(join(tmpdir(), "orrery-kill-"));
		const db = testDatabase(dialect);
		cleanup.push(async () => {
			await db.drop();
			rmSync(home, { recursive: true, force: true });
		});
		const env = { ORRERY_HOME: home, ...db.env };
		const token = JSON.parse((await orrery(["admin", "create-user", "--email", "k@example.org", "--json"], env)).stdout)
			.token as string;
		let server: ServerProcess = await startServerProcess(env);
		cleanup.push(() => server.kill("SIGTERM"));
		const call = async (method: string, path: string, body?: unknown) => {
			const res = await fetch(`${server.url}${path}${path.includes("?") ? "&" : "?"}access_token=${token}`, {
				method,
				...(body === undefined ? {} : { headers: { "content-type": "application/json" }, body: JSON.stringify(body) }),
			});
			return (await res.json()) as Record<string, unknown>;
		};
		await call("POST", "/api/workflows?workflow_name=survivor", spec);
		await call("POST", "/api/workflows/survivor/start", {});
		let status: Record<string, unknown> = {};
		for (let i = 0; i < 100 && status.status !== "running"; i++) {
			await new Promise((r) => setTimeout(r, 100));
			status = await call("GET", "/api/workflows/survivor/status");
		}
		expect(status.status).toBe("running");
		const workspace = status.workspace_path as string;
		await new Promise((r) => setTimeout(r, 500));
		expect(readFileSync(join(workspace, "runs.log"), "utf8")).toBe("start\n");

		await server.kill("SIGKILL");
		// The job keeps running without its server.
		await new Promise((r) => setTimeout(r, 1000));
		server = await startServerProcess(env);

		for (let i = 0; i < 200 && !["finished", "failed"].includes(String(status.status)); i++) {
			await new Promise((r) => setTimeout(r, 100));
			status = await call("GET", "/api/workflows/survivor/status");
		}
		expect(status.status).toBe("finished");
		expect(readFileSync(join(workspace, "runs.log"), "utf8")).toBe("start\nend\nafter\n");
		const jobs = (await call("GET", "/api/workflows/survivor/jobs")) as {
			items: Array<{ step_name: string; attempt: number; status: string }>;
		};
		expect(jobs.items.map((j) => [j.step_name, j.attempt, j.status])).toEqual([
			["long", 1, "finished"],
			["after", 1, "finished"],
		]);
	});
});
