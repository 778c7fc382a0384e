import {
	existsSync,
	lstatSync,
	mkdirSync,
	mkdtempSync,
	readdirSync,
	readFileSync,
	symlinkSync,
	writeFileSync,
} from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { StagingConfig } from "../../src/config/index.js";
import { expandRemoteInput, type PlannedFile, StagingSession, stageFile } from "../../src/storage/index.js";

const signal = new AbortController().signal;

/** One file staged straight through the storage entrance, from a real local folder (`file://`). */
describe("staging one file into a workspace", () => {
	const base = mkdtempSync(join(tmpdir(), "orrery-stage-file-"));
	const remote = join(base, "remote");
	const outside = join(base, "outside");
	let session: StagingSession;

	beforeAll(() => {
		mkdirSync(remote);
		mkdirSync(outside);
		writeFileSync(join(remote, "x.fits"), "REMOTE BYTES\n");
		const config: StagingConfig = {
			allowPrivateNetworks: true,
			fileRoots: [remote],
			concurrency: 2,
			retries: 0,
			endpoints: [],
			defaultEndpoint: undefined,
		};
		session = new StagingSession(config, { env: {}, files: {} });
	});
	afterAll(() => session.close());

	const fresh = () => mkdtempSync(join(base, "ws-"));
	const planned = (path: string, extra: Partial<PlannedFile> = {}): PlannedFile => ({
		url: pathToFileURL(join(remote, "x.fits")).href,
		path,
		options: {},
		...extra,
	});

	it("never writes through a symlink a job planted at the old temporary name", async () => {
		const ws = fresh();
		mkdirSync(join(ws, "data"));
		writeFileSync(join(outside, "victim.txt"), "keep me\n");
		symlinkSync(join(outside, "victim.txt"), join(ws, "data", ".x.fits.orrery-staging"));
		symlinkSync(join(outside, "new.txt"), join(ws, "data", ".y.fits.orrery-staging"));
		await stageFile(session, planned("data/x.fits"), ws, { signal });
		await stageFile(session, planned("data/y.fits"), ws, { signal });
		expect(readFileSync(join(outside, "victim.txt"), "utf8")).toBe("keep me\n");
		expect(existsSync(join(outside, "new.txt"))).toBe(false);
		for (const name of ["x.fits", "y.fits"]) {
			expect(lstatSync(join(ws, "data", name)).isFile(), name).toBe(true);
			expect(readFileSync(join(ws, "data", name), "utf8")).toBe("REMOTE BYTES\n");
		}
		// Only the planted links are left beside the files: no temporary file of ours.
		expect(readdirSync(join(ws, "data")).sort()).toEqual([
			".x.fits.orrery-staging",
			".y.fits.orrery-staging",
			"x.fits",
			"y.fits",
		]);
	});

	it("refuses a target whose folder is a symlink leading out of the workspace, writing nothing there", async () => {
		const ws = fresh();
		symlinkSync(outside, join(ws, "data"));
		await expect(stageFile(session, planned("data/z.fits"), ws, { signal })).rejects.toThrow(
			/the path 'data\/z\.fits' is not allowed: it leads outside the workspace/,
		);
		expect(readdirSync(outside).filter((f) => f.includes("z.fits"))).toEqual([]);
	});

	it("fetches again a file of the right size when neither a checksum nor a modification time confirms it", async () => {
		const ws = fresh();
		writeFileSync(join(ws, "x.fits"), "LOCAL BYTES!\n"); // the same size as the remote file
		const result = await stageFile(session, planned("x.fits", { size: 13 }), ws, { signal });
		expect(result.isSkipped).toBe(false);
		expect(readFileSync(join(ws, "x.fits"), "utf8")).toBe("REMOTE BYTES\n");
	});
});

// s3rver (the S3 server here) folds `a/./b` and `a/../b` when it stores them and refuses `a//b`; AWS and
// MinIO keep such keys. So a test-local server answers ListObjectsV2 with them in the real XML.
describe("listing an S3 prefix with keys that are not clean paths (ListObjectsV2 from a test-local server: s3rver cannot store such keys)", () => {
	it.each(["tiles/./x.txt", "tiles//x.txt", "tiles/../x.txt"])(
		"refuses %s, naming the key and the URL",
		async (odd) => {
			const keys = ["odd/tiles/x.txt", `odd/${odd}`];
			const server = createServer((_req, res) => {
				const contents = keys.map((k) => `<Contents><Key>${k}</Key><Size>3</Size></Contents>`).join("");
				res.writeHead(200, { "content-type": "application/xml" });
				res.end(
					`<?xml version="1.0" encoding="UTF-8"?><ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>b</Name><Prefix>odd/</Prefix><KeyCount>2</KeyCount><MaxKeys>1000</MaxKeys><IsTruncated>false</IsTruncated>${contents}</ListBucketResult>`,
				);
			});
			await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
			const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
			const session = new StagingSession(
				{
					allowPrivateNetworks: true,
					fileRoots: [],
					concurrency: 2,
					retries: 0,
					endpoints: [
						{ name: "default", url: endpoint, pathStyle: true, region: "us-east-1", buckets: [], isAnonymous: true },
					],
					defaultEndpoint: "default",
				},
				{ env: {}, files: {} },
			);
			try {
				await expect(
					expandRemoteInput(session, { url: "s3://b/odd/", path: "in", options: {} }, signal),
				).rejects.toThrow(`the object odd/${odd} under s3://b/odd/ cannot be staged`);
			} finally {
				session.close();
				await new Promise((done) => server.close(done));
			}
		},
	);
});
