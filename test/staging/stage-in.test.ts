import { createHash, randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testDialects } from "../support/databases.js";
import { type S3Service, s3Service } from "../support/staging-services.js";
import { startTestServer, type TestServer, waitForStatus } from "../support/test-server.js";

const b64 = (s: string) => Buffer.from(s).toString("base64");
const sha256 = (b: Buffer | string) => createHash("sha256").update(b).digest("hex");

describe.each(testDialects)("stage-in from S3 (%s)", (dialect) => {
	let t: TestServer;
	let s3: S3Service;
	let token: string;
	const prefix = `stage-in-${dialect}-${randomBytes(4).toString("hex")}`;
	const a = randomBytes(300_000);

	beforeAll(async () => {
		s3 = s3Service();
		t = await startTestServer(dialect, {
			env: { ORRERY_S3_ENDPOINT: s3.endpoint, ORRERY_STAGING_ALLOW_PRIVATE: "127.0.0.1/32" },
		});
		token = (await t.user("stager@example.org")).token;
		await t.call("POST", "/api/secrets/", {
			token,
			body: {
				S3_DEFAULT_ACCESS_KEY_ID: { value: b64(s3.accessKeyId), type: "env" },
				S3_DEFAULT_SECRET_ACCESS_KEY: { value: b64(s3.secretAccessKey), type: "env" },
			},
		});
		await s3.put(`${prefix}/a.bin`, a);
		await s3.put(`${prefix}/dir/x.txt`, "x\n");
		await s3.put(`${prefix}/dir/sub/y.txt`, "y\n");
	});
	afterAll(async () => t?.close());

	const run = async (name: string, remote: unknown[], commands = ["true"], extra: Record<string, unknown> = {}) => {
		const spec = {
			inputs: { remote, ...extra },
			workflow: { type: "serial", specification: { steps: [{ name: "use", commands }] } },
		};
		const created = await t.call("POST", `/api/workflows?workflow_name=${name}`, { token, body: spec });
		expect(created.status, await created.clone().text()).toBe(201);
		return t.call("POST", `/api/workflows/${name}/start`, { token, body: {} });
	};

	it("stages an object and a prefix before the first job, verifying the checksum", async () => {
		const started = await run(
			"staged",
			[
				{ url: `s3://${s3.bucket}/${prefix}/a.bin`, path: "data/a.bin", sha256: sha256(a) },
				{ url: `s3://${s3.bucket}/${prefix}/dir/`, path: "data/dir" },
			],
			["sha256sum data/a.bin | cut -c1-64 > out.txt; cat data/dir/x.txt data/dir/sub/y.txt >> out.txt"],
			{ files: ["data/a.bin"] },
		);
		expect(started.status, await started.clone().text()).toBe(200);
		const status = (await waitForStatus(t, token, "staged")) as { status: string; message: string };
		expect(status.status, status.message).toBe("finished");
		const out = await (await t.call("GET", "/api/workflows/staged/workspace/out.txt", { token })).text();
		expect(out).toBe(`${sha256(a)}\nx\ny\n`);
		const events = (await (await t.call("GET", "/api/workflows/staged/events", { token })).json()) as {
			items: Array<{ type: string; message: string }>;
		};
		const types = events.items.map((e) => e.type);
		expect(types).toContain("staging_started");
		expect(types.indexOf("staging_finished")).toBeLessThan(types.indexOf("job_submitted"));
		expect(events.items.find((e) => e.type === "staging_started")?.message).toMatch(/staging 3 files/);
	});

	it("skips files already in the workspace with the right size and checksum when a run restarts", async () => {
		const res = await t.call("POST", "/api/workflows/staged/start", { token, body: { restart: true } });
		expect(res.status, await res.clone().text()).toBeLessThan(300);
		const status = (await waitForStatus(t, token, "staged.1.1")) as { status: string; message: string };
		expect(status.status, status.message).toBe("finished");
		const events = (await (await t.call("GET", "/api/workflows/staged.1.1/events", { token })).json()) as {
			items: Array<{ type: string; message: string }>;
		};
		expect(events.items.find((e) => e.type === "staging_finished")?.message).toMatch(/3 already present/);
	});

	it("fails the run before any job when a checksum does not match, naming the file", async () => {
		const started = await run("mismatch", [
			{ url: `s3://${s3.bucket}/${prefix}/a.bin`, path: "data/a.bin", sha256: "0".repeat(64) },
		]);
		expect(started.status).toBe(200);
		const status = (await waitForStatus(t, token, "mismatch")) as { status: string; message: string };
		expect(status.status).toBe("failed");
		expect(status.message).toMatch(/checksum mismatch for data\/a\.bin/);
		const jobs = (await (await t.call("GET", "/api/workflows/mismatch/jobs", { token })).json()) as {
			items: unknown[];
		};
		expect(jobs.items).toHaveLength(0);
		const ls = (await (await t.call("GET", "/api/workflows/mismatch/workspace", { token })).json()) as {
			items: Array<{ name: string }>;
		};
		expect(ls.items.map((f) => f.name)).toEqual([]);
	});

	it("stages a file named both by its folder and by itself once, checking the checksum given for it", async () => {
		const folder = `s3://${s3.bucket}/${prefix}/dir/`;
		const started = await run("twice", [
			{ url: folder, path: "data" },
			{ url: `${folder}x.txt`, path: "data/x.txt", sha256: sha256("x\n") },
		]);
		expect(started.status, await started.clone().text()).toBe(200);
		const status = (await waitForStatus(t, token, "twice")) as { status: string; message: string };
		expect(status.status, status.message).toBe("finished");
		const events = (await (await t.call("GET", "/api/workflows/twice/events", { token })).json()) as {
			items: Array<{ type: string; message: string }>;
		};
		expect(events.items.find((e) => e.type === "staging_started")?.message).toMatch(/staging 2 files/);
		await run("twice-wrong", [
			{ url: folder, path: "data" },
			{ url: `${folder}x.txt`, path: "data/x.txt", sha256: "0".repeat(64) },
		]);
		const wrong = (await waitForStatus(t, token, "twice-wrong")) as { status: string; message: string };
		expect(wrong.status).toBe("failed");
		expect(wrong.message).toMatch(/checksum mismatch for data\/x\.txt/);
	});

	it("fails with a clear message for a missing object and for a missing bucket", async () => {
		await run("no-object", [{ url: `s3://${s3.bucket}/${prefix}/nothing.bin` }]);
		const one = (await waitForStatus(t, token, "no-object")) as { status: string; message: string };
		expect(one.status).toBe("failed");
		expect(one.message).toContain(`s3://${s3.bucket}/${prefix}/nothing.bin does not exist`);
		await run("no-bucket", [{ url: "s3://no-such-bucket-orrery/x.bin" }]);
		const two = (await waitForStatus(t, token, "no-bucket")) as { status: string; message: string };
		expect(two.status).toBe("failed");
		expect(two.message).toMatch(
			/the bucket no-such-bucket-orrery does not exist .*s3:\/\/no-such-bucket-orrery\/x\.bin/,
		);
	});
});
