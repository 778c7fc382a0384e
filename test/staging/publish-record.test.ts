import { randomBytes } from "node:crypto";
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { addS3Secrets, type S3Service, s3Service } from "../support/staging-services.js";
import { startTestServer, type TestServer, waitForStatus } from "../support/test-server.js";

describe("recording a publication", () => {
	let t: TestServer;
	let s3: S3Service;
	let token: string;

	beforeAll(async () => {
		s3 = s3Service();
		t = await startTestServer("sqlite", {
			env: { ORRERY_S3_ENDPOINT: s3.endpoint, ORRERY_STAGING_ALLOW_PRIVATE: "127.0.0.1" },
		});
		token = (await t.user("recorder@example.org")).token;
		await addS3Secrets(t, token, s3);
	});
	afterAll(async () => t?.close());

	it("fails the run instead of finishing it unpublished when its publication targets cannot be recorded", async () => {
		// A fault in the real database: every insert of an outgoing transfer is refused.
		await sql`CREATE TRIGGER refuse_out BEFORE INSERT ON transfers WHEN NEW.direction = 'out' BEGIN SELECT RAISE(ABORT, 'disk I/O error'); END`.execute(
			t.server.db.kysely,
		);
		try {
			const spec = {
				outputs: {
					files: ["x.txt"],
					publish: [{ url: `s3://${s3.bucket}/record-${randomBytes(4).toString("hex")}/` }],
				},
				workflow: { type: "serial", specification: { steps: [{ name: "make", commands: ["echo x > x.txt"] }] } },
			};
			expect((await t.call("POST", "/api/workflows?workflow_name=unrecorded", { token, body: spec })).status).toBe(201);
			expect((await t.call("POST", "/api/workflows/unrecorded/start", { token, body: {} })).status).toBe(200);
			const status = (await waitForStatus(t, token, "unrecorded")) as { status: string; message: string };
			expect(status.status, status.message).toBe("failed");
			expect(status.message).toMatch(/disk I\/O error/);
		} finally {
			await sql`DROP TRIGGER refuse_out`.execute(t.server.db.kysely);
		}
	});
});
