import { randomBytes } from "node:crypto";
import { readdirSync } from "node:fs";
import { get as httpGet } from "node:http";
import { join } from "node:path";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OrreryServer } from "../../src/server/index.js";
import { testDialects } from "../support/databases.js";
import { addS3Secrets, type S3Service, s3Service } from "../support/staging-services.js";
import { startTestServer, type TestServer } from "../support/test-server.js";

describe.each(testDialects)("staging survives a server restart (%s)", (dialect) => {
	let t: TestServer;
	let s3: S3Service;
	let token: string;
	const prefix = `restart-${dialect}-${randomBytes(4).toString("hex")}`;
	const count = 60;

	beforeAll(async () => {
		s3 = s3Service();
		// Eight at a time: 60 uploads at once made the S3 server drop connections (EPIPE) on a busy machine.
		for (let i = 0; i < count; i += 8)
			await Promise.all(
				Array.from({ length: Math.min(8, count - i) }, (_, j) =>
					s3.put(`${prefix}/f${String(i + j).padStart(3, "0")}.bin`, randomBytes(1024 * 1024)),
				),
			);
		t = await startTestServer(dialect, {
			env: {
				ORRERY_S3_ENDPOINT: s3.endpoint,
				ORRERY_STAGING_ALLOW_PRIVATE: "127.0.0.1",
				ORRERY_STAGING_CONCURRENCY: "1",
			},
		});
		token = (await t.user("restart@example.org")).token;
		await addS3Secrets(t, token, s3);
	});
	afterAll(async () => t?.close());

	it("continues the planned transfers after a restart without planning or fetching again what is done", async () => {
		const spec = {
			inputs: { remote: [{ url: `s3://${s3.bucket}/${prefix}/`, path: "data" }] },
			workflow: { type: "serial", specification: { steps: [{ commands: ["ls data | wc -l > count.txt"] }] } },
		};
		await t.call("POST", "/api/workflows?workflow_name=durable", { token, body: spec });
		await t.call("POST", "/api/workflows/durable/start", { token, body: {} });
		const s = (await (await t.call("GET", "/api/workflows/durable/status", { token })).json()) as {
			workspace_path: string;
		};
		const workspace = s.workspace_path;
		const staged = () => {
			try {
				return readdirSync(join(workspace, "data")).filter((f) => f.endsWith(".bin")).length;
			} catch {
				return 0;
			}
		};
		for (let i = 0; i < 2000 && staged() < 3; i++) await new Promise((r) => setTimeout(r, 5));
		const mid = (await (await t.call("GET", "/api/workflows/durable/status", { token })).json()) as { status: string };
		expect(mid.status).toBe("pending");
		await t.server.close();
		const before = readdirSync(join(workspace, "data")).filter((f) => f.endsWith(".bin")).length;
		expect(before).toBeGreaterThan(0);
		expect(before).toBeLessThan(count);

		const again = await OrreryServer.open({ config: t.config, logger: pino({ level: "silent" }) });
		try {
			const url = await again.listen("127.0.0.1", 0);
			// One connection per request: no keep-alive connection is left open when the server closes.
			const fetchText = (path: string) =>
				new Promise<string>((done, fail) => {
					const req = httpGet(
						`${url}${path}`,
						{ agent: false, headers: { authorization: `Bearer ${token}` } },
						(res) => {
							let body = "";
							res.setEncoding("utf8");
							res.on("data", (c: string) => {
								body += c;
							});
							res.on("end", () => done(body));
						},
					);
					req.on("error", fail);
				});
			const get = async (path: string) => JSON.parse(await fetchText(path));
			let status = "";
			for (let i = 0; i < 100 && !["finished", "failed"].includes(status); i++) {
				status = ((await get("/api/workflows/durable/status")) as { status: string }).status;
				await new Promise((r) => setTimeout(r, 100));
			}
			expect(status).toBe("finished");
			const events = (await get("/api/workflows/durable/events")) as {
				items: Array<{ type: string; message: string }>;
			};
			expect(events.items.filter((e) => e.type === "staging_started")).toHaveLength(1);
			const finished = events.items.find((e) => e.type === "staging_finished");
			expect(finished?.message).toMatch(new RegExp(`staged ${count} files`));
			const out = await fetchText("/api/workflows/durable/workspace/count.txt");
			expect(out.trim()).toBe(String(count));
			expect(readdirSync(join(workspace, "data")).filter((f) => f.includes("orrery-staging"))).toEqual([]);
		} finally {
			// The test server's close drops the database; close this process's server first.
			await again.close();
			t.server = await OrreryServer.open({ config: t.config, logger: pino({ level: "silent" }), runScheduler: false });
		}
	});
});
