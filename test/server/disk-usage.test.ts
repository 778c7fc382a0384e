// GET /api/workflows/{w}/disk_usage answers as REANA's (reana-commons get_disk_usage runs `du -a`,
// or `du -s` to summarize): files and folders, each folder with the total of what it holds, its
// contents before it and the workspace ("") last.
import { mkdirSync, writeFileSync } from "node:fs";
import { request } from "node:http";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../support/test-server.js";

const spec = {
	version: "0.9.0",
	workflow: { type: "serial", specification: { steps: [{ name: "s", commands: ["true"] }] } },
};

describe("disk usage of a workspace", () => {
	let t: TestServer;
	let token: string;

	beforeAll(async () => {
		t = await startTestServer("sqlite");
		token = (await t.user("du@example.org")).token;
		await t.call("POST", "/api/workflows?workflow_name=sizes", { token, body: spec });
		const status = (await (await t.call("GET", "/api/workflows/sizes/status", { token })).json()) as {
			workspace_path: string;
		};
		const ws = status.workspace_path;
		mkdirSync(join(ws, "data"));
		mkdirSync(join(ws, "results/sub"), { recursive: true });
		mkdirSync(join(ws, "empty"));
		writeFileSync(join(ws, "data/in.txt"), "payload\n");
		writeFileSync(join(ws, "results/out.txt"), "world\n");
		writeFileSync(join(ws, "results/sub/out.txt"), "sub\n");
	});
	afterAll(async () => t?.close());

	/**
	 * The lines as name and raw size. A `body` is sent as reana-client sends it, as JSON in the GET
	 * request (which fetch refuses to send, so node:http does).
	 */
	async function du(query: string, body?: unknown): Promise<Array<[string, number]>> {
		const url = new URL(`${t.url}/api/workflows/sizes/disk_usage${query}`);
		url.searchParams.set("access_token", token);
		const text = JSON.stringify(body ?? {});
		const { status, data } = await new Promise<{ status: number; data: string }>((done, fail) => {
			const req = request(
				url,
				{
					method: "GET",
					headers: { "content-type": "application/json", "content-length": Buffer.byteLength(text) },
				},
				(res) => {
					let data = "";
					res.setEncoding("utf8").on("data", (chunk: string) => {
						data += chunk;
					});
					res.on("end", () => done({ status: res.statusCode ?? 0, data }));
				},
			);
			req.on("error", fail);
			req.end(text);
		});
		expect(status, data).toBe(200);
		const answer = JSON.parse(data) as { disk_usage_info: Array<{ name: string; size: { raw: number } }> };
		return answer.disk_usage_info.map((d) => [d.name, d.size.raw]);
	}

	it("lists every file and folder, folders with their totals and after what they hold, the workspace last", async () => {
		expect(await du("")).toEqual([
			["/data/in.txt", 8],
			["/data", 8],
			["/empty", 0],
			["/results/out.txt", 6],
			["/results/sub/out.txt", 4],
			["/results/sub", 4],
			["/results", 10],
			["", 18],
		]);
	});

	it("summarizes as the workspace's total only", async () => {
		expect(await du("?summarize=true")).toEqual([["", 18]]);
		expect(await du("", { summarize: true })).toEqual([["", 18]]);
	});

	it("takes a folder's name as what it holds, and a glob's matches with all below them (reana-client --filter name=)", async () => {
		const results = [
			["/results/out.txt", 6],
			["/results/sub/out.txt", 4],
			["/results/sub", 4],
		];
		expect(await du("", { search: JSON.stringify({ name: ["results/"] }) })).toEqual(results);
		expect(await du(`?search=${encodeURIComponent('{"name": ["results/*"]}')}`)).toEqual(results);
		expect(await du("", { summarize: true, search: JSON.stringify({ name: ["results"] }) })).toEqual([
			["/results/out.txt", 6],
			["/results/sub", 4],
		]);
		expect(await du("", { search: JSON.stringify({ name: ["*/in.txt", "nothing"] }) })).toEqual([["/data/in.txt", 8]]);
	});

	it("keeps the files and folders of an exact size, and those whose name contains plain text", async () => {
		expect(await du("", { search: JSON.stringify({ size: ["4"] }) })).toEqual([
			["/results/sub/out.txt", 4],
			["/results/sub", 4],
		]);
		expect(await du("?search=sub")).toEqual([
			["/results/sub/out.txt", 4],
			["/results/sub", 4],
		]);
		expect(await du("?search=out.txt&summarize=true")).toEqual([["", 10]]);
	});
});
