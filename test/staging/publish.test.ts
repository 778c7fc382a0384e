import { createHash, randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { GetObjectCommand, ListObjectsV2Command } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
	addS3Secrets,
	type S3Service,
	s3Service,
	startWebDav,
	type WebDavService,
} from "../support/staging-services.js";
import { startTestServer, type TestServer, waitForStatus } from "../support/test-server.js";

const b64 = (s: string) => Buffer.from(s).toString("base64");
const sha256 = (b: Buffer | string) => createHash("sha256").update(b).digest("hex");

describe("publishing outputs and WebDAV staging", () => {
	let t: TestServer;
	let s3: S3Service;
	let dav: WebDavService;
	let token: string;
	const prefix = `publish-${randomBytes(4).toString("hex")}`;
	const steps = (commands: string[]) => ({ type: "serial", specification: { steps: [{ name: "make", commands }] } });
	const make = "mkdir -p results/sub && echo alpha > results/a.txt && echo beta > results/sub/b.txt";

	beforeAll(async () => {
		s3 = s3Service();
		dav = await startWebDav({ "rw-token": { canWrite: true }, "ro-token": { canWrite: false } });
		mkdirSync(join(dav.root, "in", "folder", "deep"), { recursive: true });
		writeFileSync(join(dav.root, "in", "data.txt"), "from dav\n");
		writeFileSync(join(dav.root, "in", "folder", "one.txt"), "one\n");
		writeFileSync(join(dav.root, "in", "folder", "deep", "two.txt"), "two\n");
		t = await startTestServer("sqlite", {
			env: { ORRERY_S3_ENDPOINT: s3.endpoint, ORRERY_STAGING_ALLOW_PRIVATE: "127.0.0.1" },
		});
		token = (await t.user("publisher@example.org")).token;
		await addS3Secrets(t, token, s3, { BEARER_TOKEN_127_0_0_1: "rw-token" });
	});
	afterAll(async () => {
		await t?.close();
		await dav?.close();
	});

	const runTo = async (name: string, spec: Record<string, unknown>, tok = token) => {
		const created = await t.call("POST", `/api/workflows?workflow_name=${name}`, { token: tok, body: spec });
		expect(created.status, await created.clone().text()).toBe(201);
		const started = await t.call("POST", `/api/workflows/${name}/start`, { token: tok, body: {} });
		expect(started.status, await started.clone().text()).toBe(200);
		return (await waitForStatus(t, tok, name)) as { status: string; message: string };
	};
	const events = async (name: string) =>
		(
			(await (await t.call("GET", `/api/workflows/${name}/events`, { token })).json()) as {
				items: Array<{ type: string; message: string }>;
			}
		).items;
	const objectText = async (key: string) => {
		const res = await s3.client.send(new GetObjectCommand({ Bucket: s3.bucket, Key: key }));
		return res.Body?.transformToString() ?? "";
	};

	it("publishes declared outputs to S3 with a SHA256SUMS manifest and no temporary objects left", async () => {
		const status = await runTo("to-s3", {
			outputs: { directories: ["results"], publish: [{ url: `s3://${s3.bucket}/${prefix}/` }] },
			workflow: steps([make]),
		});
		expect(status.status, status.message).toBe("finished");
		expect(status.message).toMatch(new RegExp(`outputs published to s3://${s3.bucket}/${prefix}/`));
		expect(await objectText(`${prefix}/results/a.txt`)).toBe("alpha\n");
		expect(await objectText(`${prefix}/results/sub/b.txt`)).toBe("beta\n");
		expect(await objectText(`${prefix}/SHA256SUMS`)).toBe(
			`${sha256("alpha\n")}  results/a.txt\n${sha256("beta\n")}  results/sub/b.txt\n`,
		);
		const listed = await s3.client.send(new ListObjectsV2Command({ Bucket: s3.bucket, Prefix: `${prefix}/` }));
		expect((listed.Contents ?? []).map((o) => o.Key).sort()).toEqual([
			`${prefix}/SHA256SUMS`,
			`${prefix}/results/a.txt`,
			`${prefix}/results/sub/b.txt`,
		]);
	});

	it("uploads nothing again when a re-run produces the same outputs", async () => {
		const res = await t.call("POST", "/api/workflows/to-s3/start", { token, body: { restart: true } });
		expect(res.status, await res.clone().text()).toBeLessThan(300);
		const status = (await waitForStatus(t, token, "to-s3.1.1")) as { status: string; message: string };
		expect(status.status, status.message).toBe("finished");
		const published = (await events("to-s3.1.1")).find((e) => e.type === "outputs_published");
		expect(published?.message).toMatch(/0 uploaded \(0\.0 MiB\), 2 unchanged/);
	});

	it("removes what an interrupted publication of the same run left behind, not another run's temporary objects", async () => {
		const target = `${prefix}-leftovers`;
		const created = await t.call("POST", "/api/workflows?workflow_name=leftovers", {
			token,
			body: {
				outputs: { directories: ["results"], publish: [{ url: `s3://${s3.bucket}/${target}/` }] },
				workflow: steps([make]),
			},
		});
		expect(created.status, await created.clone().text()).toBe(201);
		const id = ((await created.json()) as { workflow_id: string }).workflow_id;
		const own = `${target}/results/a.txt.orrery-partial-${id.replace(/-/g, "").slice(0, 12)}-0badc0de`;
		const foreign = `${target}/results/a.txt.orrery-partial-0123456789ab-cafebabe`;
		await s3.put(own, "half of a killed upload");
		await s3.put(foreign, "another run's upload in progress");
		const started = await t.call("POST", "/api/workflows/leftovers/start", { token, body: {} });
		expect(started.status, await started.clone().text()).toBe(200);
		const status = (await waitForStatus(t, token, "leftovers")) as { status: string; message: string };
		expect(status.status, status.message).toBe("finished");
		const listed = await s3.client.send(new ListObjectsV2Command({ Bucket: s3.bucket, Prefix: `${target}/` }));
		expect((listed.Contents ?? []).map((o) => o.Key).sort()).toEqual([
			`${target}/SHA256SUMS`,
			`${target}/results/a.txt`,
			foreign,
			`${target}/results/sub/b.txt`,
		]);
		const published = (await events("leftovers")).find((e) => e.type === "outputs_published");
		expect(published?.message).toMatch(/1 temporary object of an interrupted attempt removed/);

		// Staging the folder in takes the published files, not the temporary object still there.
		const staged = await runTo("stage-published", {
			inputs: { remote: [{ url: `s3://${s3.bucket}/${target}/results/`, path: "in" }] },
			workflow: steps(["find in -type f | sort > found.txt"]),
		});
		expect(staged.status, staged.message).toBe("finished");
		const workspace = (
			(await (await t.call("GET", "/api/workflows/stage-published/status", { token })).json()) as {
				workspace_path?: string;
			}
		).workspace_path;
		expect(workspace, "status reports the workspace").toBeTruthy();
		expect(readFileSync(join(workspace as string, "found.txt"), "utf8")).toBe("in/a.txt\nin/sub/b.txt\n");
	});

	it("stages a file and a folder from WebDAV with a bearer token and publishes to WebDAV", async () => {
		const status = await runTo("dav", {
			inputs: {
				remote: [
					{ url: `${dav.url}/in/data.txt`, path: "data.txt" },
					{ url: `${dav.url.replace("http:", "dav:")}/in/folder/`, path: "folder" },
				],
			},
			outputs: { files: ["copy.txt"], publish: [{ url: `${dav.url.replace("http:", "dav:")}/out/run1/` }] },
			workflow: steps(["cat data.txt folder/one.txt folder/deep/two.txt > copy.txt"]),
		});
		expect(status.status, status.message).toBe("finished");
		expect(readFileSync(join(dav.root, "out", "run1", "copy.txt"), "utf8")).toBe("from dav\none\ntwo\n");
		expect(readFileSync(join(dav.root, "out", "run1", "SHA256SUMS"), "utf8")).toBe(
			`${sha256("from dav\none\ntwo\n")}  copy.txt\n`,
		);
		expect(readdirSync(join(dav.root, "out", "run1")).filter((f) => f.includes("orrery-partial"))).toEqual([]);
	});

	it("fails the run, naming the token, when the WebDAV target refuses writes", async () => {
		const reader = (await t.user("reader@example.org")).token;
		await t.call("POST", "/api/secrets/", {
			token: reader,
			body: { BEARER_TOKEN_127_0_0_1: { value: b64("ro-token"), type: "env" } },
		});
		const status = await runTo(
			"readonly",
			{
				outputs: { files: ["x.txt"], publish: [{ url: `${dav.url}/out/denied/` }] },
				workflow: steps(["echo x > x.txt"]),
			},
			reader,
		);
		expect(status.status).toBe("failed");
		expect(status.message).toMatch(
			/publishing outputs to .*\/out\/denied\/ failed: permission denied: .*the token in the secret BEARER_TOKEN_127_0_0_1 to write to/,
		);
		expect(existsSync(join(dav.root, "out", "denied", "SHA256SUMS"))).toBe(false);
	});

	it("asks for a bearer token when the WebDAV server wants one", async () => {
		const anon = (await t.user("anon@example.org")).token;
		const status = await runTo(
			"anonymous",
			{ inputs: { remote: [{ url: `${dav.url}/in/data.txt` }] }, workflow: steps(["true"]) },
			anon,
		);
		expect(status.status).toBe("failed");
		expect(status.message).toMatch(/needs authentication: add a bearer token as the secret BEARER_TOKEN_127_0_0_1/);
	});
});
