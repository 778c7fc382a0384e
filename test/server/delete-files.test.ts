// Deleting workspace files answers what it deleted and, for each path it could not delete, why
// (REANA's delete_file: `{"deleted": {path: {"size": n}}, "failed": {path: {"error": "…"}}}`, 200),
// instead of failing the whole request.
import { execFileSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../support/test-server.js";

const spec = {
	version: "0.9.0",
	workflow: { type: "serial", specification: { steps: [{ name: "s", commands: ["true"] }] } },
};

/**
 * Makes a file that the server's user cannot delete, by the means that user has: root ignores
 * permissions, so the file is made immutable (`chattr +i`); anyone else gets a read-only folder.
 * Returns what undoes it.
 */
function protect(file: string): () => void {
	if (process.getuid?.() === 0) {
		execFileSync("chattr", ["+i", file]);
		return () => execFileSync("chattr", ["-i", file]);
	}
	const folder = join(file, "..");
	chmodSync(folder, 0o555);
	return () => chmodSync(folder, 0o755);
}

describe("deleting workspace files that cannot all be deleted", () => {
	let t: TestServer;
	let token: string;

	beforeAll(async () => {
		t = await startTestServer("sqlite");
		token = (await t.user("deleter@example.org")).token;
	});
	afterAll(async () => t?.close());

	async function workspaceOf(name: string): Promise<string> {
		expect((await t.call("POST", `/api/workflows?workflow_name=${name}`, { token, body: spec })).status).toBe(201);
		const status = (await (await t.call("GET", `/api/workflows/${name}/status`, { token })).json()) as {
			workspace_path: string;
		};
		return status.workspace_path;
	}

	const remove = async (name: string, path: string) => {
		const res = await t.call("DELETE", `/api/workflows/${name}/workspace/${path}`, { token });
		return { status: res.status, body: (await res.json()) as Record<string, unknown> };
	};

	it("reports a file it may not delete with the reason, and deletes the rest of the folder", async () => {
		const ws = await workspaceOf("locked");
		mkdirSync(join(ws, "results/held"), { recursive: true });
		writeFileSync(join(ws, "results/held/kept.txt"), "kept\n");
		writeFileSync(join(ws, "results/gone.txt"), "gone\n");
		const release = protect(join(ws, "results/held/kept.txt"));
		try {
			const answer = await remove("locked", "results");
			expect(answer).toEqual({
				status: 200,
				body: {
					deleted: { "results/gone.txt": { size: 5 } },
					failed: { "results/held/kept.txt": { error: "permission denied" } },
				},
			});
			expect(existsSync(join(ws, "results/held/kept.txt"))).toBe(true);
			expect(existsSync(join(ws, "results/gone.txt"))).toBe(false);
		} finally {
			release();
		}
	});

	it("deletes what a glob matches, folders emptied by it included, and reports a folder that still holds files (REANA: not empty)", async () => {
		const ws = await workspaceOf("globbed");
		mkdirSync(join(ws, "scratch/full"), { recursive: true });
		mkdirSync(join(ws, "scratch/empty"), { recursive: true });
		writeFileSync(join(ws, "scratch/a.tmp"), "tmp");
		writeFileSync(join(ws, "scratch/full/b.txt"), "b\n");
		const answer = await remove("globbed", "scratch/*");
		expect(answer.status).toBe(200);
		expect(answer.body.deleted).toEqual({ "scratch/a.tmp": { size: 3 }, "scratch/empty": { size: 0 } });
		expect(answer.body.failed).toEqual({
			"scratch/full": {
				error:
					"it is a folder that is not empty; name the folder itself (not a pattern) to delete it with everything in it",
			},
		});
		expect(existsSync(join(ws, "scratch/full/b.txt"))).toBe(true);
		// A glob that reaches the files too empties the folders first, then removes them (`**` matches
		// the folder itself too, as in bash with globstar).
		const all = await remove("globbed", "scratch/**");
		expect(all.body).toEqual({
			deleted: { "scratch/full/b.txt": { size: 2 }, "scratch/full": { size: 0 }, scratch: { size: 0 } },
			failed: {},
		});
		expect(existsSync(join(ws, "scratch"))).toBe(false);
	});
});
