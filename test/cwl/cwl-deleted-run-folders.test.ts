// A CWL run keeps its jobs' folders in `cwl-work/<run id>/` of its workspace, which its restarts share.
// Deleting a run while other runs keep the workspace removes that run's folder only, never following
// a symbolic link; deleting the last run removes the whole workspace.
import {
	existsSync,
	mkdirSync,
	mkdtempSync,
	readdirSync,
	readFileSync,
	renameSync,
	rmSync,
	symlinkSync,
	writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testDialects } from "../support/databases.js";
import { startTestServer, type TestServer, waitForStatus } from "../support/test-server.js";

const tool = `cwlVersion: v1.2
class: CommandLineTool
baseCommand: [sh, -c, 'echo "n=$0" > n.txt']
inputs:
  n: {type: int, inputBinding: {position: 1}}
outputs:
  out: {type: File, outputBinding: {glob: n.txt}}
`;

const spec = { inputs: { files: ["tool.cwl"], parameters: { n: 1 } }, workflow: { type: "cwl", file: "tool.cwl" } };

describe.each(testDialects)("the CWL job folders of deleted runs (%s)", (dialect) => {
	let t: TestServer;
	let token: string;
	let outside: string;

	beforeAll(async () => {
		t = await startTestServer(dialect);
		token = (await t.user("cleaner@example.org")).token;
		outside = mkdtempSync(join(tmpdir(), "orrery-outside-"));
	});
	afterAll(async () => {
		await t?.close();
		rmSync(outside, { recursive: true, force: true });
	});

	async function status(name: string): Promise<{ id: string; status: string; workspace_path: string }> {
		return (await (await t.call("GET", `/api/workflows/${name}/status`, { token })).json()) as {
			id: string;
			status: string;
			workspace_path: string;
		};
	}

	async function finished(name: string): Promise<{ id: string; workspace_path: string }> {
		expect((await waitForStatus(t, token, name, 60_000)).status).toBe("finished");
		return status(name);
	}

	async function restart(name: string, n: number): Promise<void> {
		const res = await t.call("POST", `/api/workflows/${name}/start`, {
			token,
			body: { restart: true, input_parameters: { n } },
		});
		expect(res.status, await res.clone().text()).toBe(200);
	}

	async function remove(name: string): Promise<void> {
		const res = await t.call("PUT", `/api/workflows/${name}/status?status=deleted`, { token, body: {} });
		expect(res.status, await res.clone().text()).toBe(200);
	}

	it("removes a deleted run's own cwl-work folder while restarts keep the workspace, and the workspace with the last run", async () => {
		await t.call("POST", "/api/workflows?workflow_name=folders", { token, body: spec });
		await t.call("POST", "/api/workflows/folders/workspace?file_name=tool.cwl", { token, raw: tool });
		await t.call("POST", "/api/workflows/folders/start", { token, body: {} });
		const first = await finished("folders.1");
		await restart("folders.1", 2);
		const second = await finished("folders.1.1");
		const ws = first.workspace_path;
		expect(second.workspace_path).toBe(ws);
		const own = join(ws, "cwl-work", first.id);
		expect(existsSync(own)).toBe(true);
		expect(existsSync(join(ws, "cwl-work", second.id))).toBe(true);
		// Links in the deleted run's folder, to a folder outside the workspace and to one inside it.
		writeFileSync(join(outside, "precious.txt"), "outside\n");
		mkdirSync(join(ws, "data"));
		writeFileSync(join(ws, "data/kept.txt"), "inside\n");
		symlinkSync(outside, join(own, "to-outside"));
		symlinkSync(join(ws, "data"), join(own, "to-data"));

		await remove("folders.1");
		expect(existsSync(own)).toBe(false);
		expect(readFileSync(join(outside, "precious.txt"), "utf8")).toBe("outside\n");
		expect(readFileSync(join(ws, "data/kept.txt"), "utf8")).toBe("inside\n");
		// The restart's folder and its published outputs (hard links to its job's files) stay.
		expect(existsSync(join(ws, "cwl-work", second.id))).toBe(true);
		const out = await t.call("GET", "/api/workflows/folders.1.1/workspace/outputs/n.txt", { token });
		expect(await out.text()).toBe("n=2\n");

		// A run folder that became a link is not followed: the link is left, and what it points to.
		await restart("folders.1.1", 3);
		const third = await finished("folders.1.2");
		renameSync(join(ws, "cwl-work", third.id), join(ws, "moved"));
		symlinkSync(join(ws, "moved"), join(ws, "cwl-work", third.id));
		await remove("folders.1.2");
		expect(readdirSync(join(ws, "moved")).length).toBe(1); // the job's folder
		expect(existsSync(join(ws, "cwl-work", third.id))).toBe(true);
		expect(readFileSync(join(ws, "outputs/n.txt"), "utf8")).toBe("n=3\n");

		// The last run goes with its workspace.
		await remove("folders.1.1");
		expect(existsSync(ws)).toBe(false);
	}, 120_000);
});
