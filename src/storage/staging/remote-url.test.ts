import { describe, expect, it } from "vitest";
import { AddressGuard, isPrivateAddress } from "./address-guard.js";
import { parseRemoteUrl, stagedPathOf } from "./remote-url.js";
import { resolveS3Endpoint, secretId } from "./staging-credentials.js";
import { parseMultistatus } from "./webdav-listing.js";

describe("remote URLs", () => {
	it("parses objects and prefixes", () => {
		expect(parseRemoteUrl("s3://bucket/a/b%20c.fits")).toMatchObject({
			scheme: "s3",
			host: "bucket",
			path: "a/b c.fits",
			isFolder: false,
		});
		expect(parseRemoteUrl("davs://door.example.org:2880/pnfs/x/")).toMatchObject({
			host: "door.example.org:2880",
			path: "/pnfs/x/",
			isFolder: true,
		});
	});

	it.each([
		["ftp://example.org/x", /unsupported URL scheme 'ftp:\/\/'/],
		["not a url", /is not a URL/],
		["https://user:pw@example.org/x", /must not carry credentials/],
	])("refuses %s", (url, message) => {
		expect(() => parseRemoteUrl(url)).toThrow(message);
	});

	it("places CWL inputs under .staged by URL, never outside", () => {
		expect(stagedPathOf("s3://b/dir/x.fits")).toBe(".staged/s3/b/dir/x.fits");
		expect(stagedPathOf("s3://b/a/../../etc/passwd")).toBe(".staged/s3/b/etc/passwd");
		expect(stagedPathOf("s3://b/a/%2E%2E/x")).not.toContain("..");
		expect(stagedPathOf("https://h.org:8443/f.txt?v=1")).toMatch(/^\.staged\/https\/h\.org_8443\/f\.txt-[0-9a-f]{8}$/);
	});
});

describe("the address guard (SSRF)", () => {
	it.each([
		"127.0.0.1",
		"10.1.2.3",
		"172.20.0.1",
		"192.168.1.1",
		"169.254.169.254",
		"100.64.0.1",
		"::1",
		"fd00::1",
		"fe80::1",
		"::ffff:127.0.0.1",
		"0.0.0.0",
	])("treats %s as private", (a) => expect(isPrivateAddress(a)).toBe(true));
	it.each(["8.8.8.8", "131.169.1.1", "2001:4860:4860::8888"])("treats %s as public", (a) =>
		expect(isPrivateAddress(a)).toBe(false),
	);

	it("allows what configuration allows, by address, network or host name", async () => {
		expect(new AddressGuard(["127.0.0.1"]).isAllowed("x", "127.0.0.1")).toBe(true);
		expect(new AddressGuard(["10.0.0.0/8"]).isAllowed("x", "10.9.9.9")).toBe(true);
		expect(new AddressGuard(["minio.internal"]).isAllowed("minio.internal", "10.9.9.9")).toBe(true);
		expect(new AddressGuard(["minio.internal"]).isAllowed("other", "10.9.9.9")).toBe(false);
		await expect(new AddressGuard(false).check("127.0.0.1", "http://127.0.0.1/")).rejects.toThrow(
			/private or loopback/,
		);
		await expect(new AddressGuard(false).check("localhost", "http://localhost/")).rejects.toThrow(
			/private or loopback/,
		);
	});
});

describe("S3 endpoints and credentials", () => {
	const config = {
		allowPrivateNetworks: false as const,
		fileRoots: [],
		concurrency: 4,
		retries: 1,
		endpoints: [
			{
				name: "aip-minio",
				url: "https://minio.aip.de",
				pathStyle: true,
				region: "eu",
				buckets: ["punch-*"],
				isAnonymous: false,
			},
		],
		defaultEndpoint: undefined,
	};
	it("picks the endpoint by name, by bucket, or AWS", () => {
		expect(resolveS3Endpoint("punch-data", {}, config)).toMatchObject({ id: "AIP_MINIO", isTrusted: true });
		expect(resolveS3Endpoint("other", {}, config)).toMatchObject({ id: "AWS", url: undefined });
		expect(resolveS3Endpoint("x", { endpoint: "https://s3.example.org" }, config)).toMatchObject({
			id: "S3_EXAMPLE_ORG",
			isTrusted: false,
			pathStyle: true,
		});
		expect(secretId("dcache-demo.desy.de")).toBe("DCACHE_DEMO_DESY_DE");
	});
});

describe("WebDAV listings", () => {
	it("reads PROPFIND answers with any namespace prefix", () => {
		const xml = `<?xml version="1.0"?><d:multistatus xmlns:d="DAV:">
<d:response><d:href>/data/</d:href><d:propstat><d:prop><d:resourcetype><d:collection/></d:resourcetype></d:prop></d:propstat></d:response>
<d:response><d:href>/data/a%20b.txt</d:href><d:propstat><d:prop><d:resourcetype/><d:getcontentlength>12</d:getcontentlength><d:getlastmodified>Mon, 01 Jan 2024 00:00:00 GMT</d:getlastmodified></d:prop></d:propstat></d:response>
</d:multistatus>`;
		const entries = parseMultistatus(xml, "https://h.org/data/");
		expect(entries).toHaveLength(2);
		expect(entries[0]).toMatchObject({ url: "https://h.org/data/", isCollection: true });
		expect(entries[1]).toMatchObject({ url: "https://h.org/data/a%20b.txt", isCollection: false, size: 12 });
	});
});
