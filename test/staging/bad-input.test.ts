import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { addS3Secrets, type S3Service, s3Service } from "../support/staging-services.js";
import { startTestServer, type TestServer } from "../support/test-server.js";

describe("staging refuses bad input with a message that says what to do", () => {
	let open: TestServer;
	let strict: TestServer;
	let s3: S3Service;
	let token: string;
	let strictToken: string;

	beforeAll(async () => {
		s3 = s3Service();
		open = await startTestServer("sqlite", {
			env: { ORRERY_S3_ENDPOINT: s3.endpoint, ORRERY_STAGING_ALLOW_PRIVATE: "127.0.0.1" },
		});
		strict = await startTestServer("sqlite", { env: { ORRERY_S3_ENDPOINT: s3.endpoint } });
		token = (await open.user("bad@example.org")).token;
		strictToken = (await strict.user("strict@example.org")).token;
		for (const [t, tok] of [
			[open, token],
			[strict, strictToken],
		] as const) {
			await addS3Secrets(t, tok, s3);
		}
	});
	afterAll(async () => {
		await open?.close();
		await strict?.close();
	});

	const create = (t: TestServer, tok: string, name: string, inputs: unknown, outputs?: unknown) =>
		t.call("POST", `/api/workflows?workflow_name=${name}`, {
			token: tok,
			body: {
				inputs,
				...(outputs ? { outputs } : {}),
				workflow: { type: "serial", specification: { steps: [{ commands: ["true"] }] } },
			},
		});
	const start = async (t: TestServer, tok: string, name: string) => {
		const res = await t.call("POST", `/api/workflows/${name}/start`, { token: tok, body: {} });
		return { status: res.status, body: (await res.json()) as { message: string; code: string } };
	};

	it("refuses an unsupported URL scheme when the workflow is created", async () => {
		const res = await create(open, token, "ftp", { remote: [{ url: "ftp://example.org/x.fits" }] });
		expect(res.status).toBe(400);
		const body = (await res.json()) as { message: string };
		expect(body.message).toMatch(/files cannot be staged in 'ftp:\/\/' URLs/);
		expect(body.message).toMatch(/inputs\.remote\[0\]\.url/);
	});

	it("refuses a path that leaves the workspace", async () => {
		const res = await create(open, token, "escape", {
			remote: [{ url: `s3://${s3.bucket}/x`, path: "../outside" }],
		});
		expect(res.status).toBe(400);
		expect(((await res.json()) as { message: string }).message).toMatch(/'\.\.' is not allowed/);
	});

	it("refuses file:// inputs unless an administrator allows their folder", async () => {
		expect((await create(open, token, "local-file", { remote: [{ url: "file:///etc/passwd" }] })).status).toBe(201);
		const res = await start(open, token, "local-file");
		expect(res.status).toBe(403);
		expect(res.body.message).toMatch(/file:\/\/ inputs are not allowed on this server/);
		expect(res.body.message).toMatch(/ORRERY_STAGING_FILE_ROOTS/);
	});

	it("refuses loopback and private addresses unless configured (no SSRF)", async () => {
		await create(strict, strictToken, "loopback", { remote: [{ url: `s3://${s3.bucket}/x` }] });
		const res = await start(strict, strictToken, "loopback");
		expect(res.status).toBe(403);
		expect(res.body.message).toMatch(/127\.0\.0\.1, a private or loopback address/);
		await create(strict, strictToken, "metadata", { remote: [{ url: "https://169.254.169.254/latest/meta-data/x" }] });
		expect((await start(strict, strictToken, "metadata")).body.message).toMatch(/169\.254\.169\.254/);
		await create(strict, strictToken, "localhost", { remote: [{ url: "http://localhost:9/x" }] });
		expect((await start(strict, strictToken, "localhost")).body.message).toMatch(/private or loopback/);
	});

	it("names the secrets to add when credentials are missing", async () => {
		const other = (await open.user("nocreds@example.org")).token;
		await create(open, other, "nocreds", { remote: [{ url: `s3://${s3.bucket}/x` }] });
		const res = await start(open, other, "nocreds");
		expect(res.status).toBe(400);
		expect(res.body.message).toMatch(/add the secrets S3_DEFAULT_ACCESS_KEY_ID and S3_DEFAULT_SECRET_ACCESS_KEY/);
		await create(open, token, "own-endpoint", {
			remote: [{ url: `s3://${s3.bucket}/x`, endpoint: "http://localhost:9000" }],
		});
		// The generic AWS_* secrets are never sent to an endpoint that the spec names and the server does not know.
		const own = await start(open, token, "own-endpoint");
		expect(own.body.message).toMatch(/secrets S3_LOCALHOST_ACCESS_KEY_ID and S3_LOCALHOST_SECRET_ACCESS_KEY/);
	});

	it("names an unknown endpoint and the configured ones", async () => {
		await create(open, token, "unknown-endpoint", { remote: [{ url: `s3://${s3.bucket}/x`, endpoint: "minio" }] });
		const res = await start(open, token, "unknown-endpoint");
		expect(res.status).toBe(400);
		expect(res.body.message).toMatch(
			/the S3 endpoint 'minio' is not configured on this server \(configured: default\)/,
		);
	});

	it("checks publish targets at start too", async () => {
		await create(
			open,
			token,
			"publish-loopback-strict",
			{},
			{ files: ["a"], publish: [{ url: "https://10.1.2.3/out/" }] },
		);
		const res = await start(open, token, "publish-loopback-strict");
		expect(res.status).toBe(403);
		expect(res.body.message).toMatch(/10\.1\.2\.3, a private or loopback address/);
	});
});
