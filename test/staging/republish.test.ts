import { createHash, randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { StagingConfig } from "../../src/config/index.js";
import { outputFiles, publishFiles, StagingSession } from "../../src/storage/index.js";
import { type S3Service, s3Service } from "../support/staging-services.js";

const sha256 = (b: Buffer | string) => createHash("sha256").update(b).digest("hex");

/** Publication straight through the storage entrance, to the real S3-protocol server. */
describe("re-publishing changed outputs to S3", () => {
	let s3: S3Service;
	let session: StagingSession;
	const prefix = `republish-${randomBytes(4).toString("hex")}`;
	const ws = mkdtempSync(join(tmpdir(), "orrery-republish-"));

	beforeAll(() => {
		s3 = s3Service();
		const config: StagingConfig = {
			allowPrivateNetworks: true,
			fileRoots: [],
			concurrency: 1,
			retries: 0,
			endpoints: [
				{ name: "default", url: s3.endpoint, pathStyle: true, region: "us-east-1", buckets: [], isAnonymous: false },
			],
			defaultEndpoint: "default",
		};
		session = new StagingSession(config, {
			env: { S3_DEFAULT_ACCESS_KEY_ID: s3.accessKeyId, S3_DEFAULT_SECRET_ACCESS_KEY: s3.secretAccessKey },
			files: {},
		});
	});
	afterAll(() => session.close());

	const publish = async (target: string, options: { signal?: AbortSignal; onFile?: (name: string) => void } = {}) =>
		publishFiles(session, `s3://${s3.bucket}/${target}/`, await outputFiles(ws, ["results"]), {
			signal: options.signal ?? new AbortController().signal,
			endpoint: {},
			onFile: (f, isSkipped) => {
				if (!isSkipped) options.onFile?.(f.name);
			},
		});
	const text = async (key: string) =>
		(await s3.client.send(new GetObjectCommand({ Bucket: s3.bucket, Key: key }))).Body?.transformToString();
	const exists = (key: string) =>
		s3.client.send(new HeadObjectCommand({ Bucket: s3.bucket, Key: key })).then(
			() => true,
			() => false,
		);
	const write = (files: Record<string, string>) => {
		for (const [name, body] of Object.entries(files)) writeFileSync(join(ws, "results", name), body);
	};

	it("removes the old manifest before changing a file, so an interrupted re-publication leaves none", async () => {
		const target = `${prefix}/interrupted`;
		mkdirSync(join(ws, "results"), { recursive: true });
		write({ "a.txt": "alpha\n", "b.txt": "beta\n" });
		await publish(target);
		expect(await text(`${target}/SHA256SUMS`)).toContain("results/a.txt");
		write({ "a.txt": "gamma, longer\n", "b.txt": "delta, longer\n" });
		const stop = new AbortController();
		await expect(publish(target, { signal: stop.signal, onFile: () => stop.abort() })).rejects.toBeDefined();
		// a.txt changed, b.txt not yet: no manifest may claim the set is complete.
		expect(await text(`${target}/results/a.txt`)).toBe("gamma, longer\n");
		expect(await text(`${target}/results/b.txt`)).toBe("beta\n");
		expect(await exists(`${target}/SHA256SUMS`)).toBe(false);
		const done = await publish(target);
		expect(done.uploaded).toBe(1);
		expect(await text(`${target}/SHA256SUMS`)).toBe(
			`${sha256("gamma, longer\n")}  results/a.txt\n${sha256("delta, longer\n")}  results/b.txt\n`,
		);
	});

	it("uploads again a file another publication replaced with other bytes of the same size", async () => {
		const target = `${prefix}/same-size`;
		write({ "a.txt": "alpha\n", "b.txt": "beta\n" });
		await publish(target);
		// What a failed publication of other bytes leaves: the object replaced, the old manifest still there.
		await s3.client.send(
			new PutObjectCommand({
				Bucket: s3.bucket,
				Key: `${target}/results/a.txt`,
				Body: "ALPHA\n",
				Metadata: { sha256: sha256("ALPHA\n") },
			}),
		);
		const again = await publish(target);
		expect(again).toMatchObject({ uploaded: 1, skipped: 1 });
		expect(await text(`${target}/results/a.txt`)).toBe("alpha\n");
	});
});
