// The workspace file API facing what jobs can make in a workspace: FIFOs, symbolic links (to files,
// to the workspace itself, to outside), and a workspace root reached through a link.
import { execFileSync } from "node:child_process";
import {
	existsSync,
	mkdirSync,
	mkdtempSync,
	readFileSync,
	realpathSync,
	rmSync,
	symlinkSync,
	writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../support/test-server.js";

const spec = {
	version: "0.9.0",
	workflow: { type: "serial", specification: { steps: [{ name: "s", commands: ["true"] }] } },
};

async function workspaceOf(t: TestServer, token: string, name: string): Promise<string> {
	const res = await t.call("POST", `/api/workflows?workflow_name=${name}`, { token, body: spec });
	expect(res.status).toBe(201);
	const status = (await (await t.call("GET", `/api/workflows/${name}/status`, { token })).json()) as {
		workspace_path: string;
	};
	return status.workspace_path;
}

/** The names in a zip archive, as unzip lists them. */
function zipNames(zip: Buffer): string[] {
	const file = join(mkdtempSync(join(tmpdir(), "orrery-zip-")), "a.zip");
	writeFileSync(file, zip);
	return execFileSync("unzip", ["-Z1", file], { encoding: "utf8" }).trim().split("\n").sort();
}

describe("workspace files that jobs made", () => {
	let t: TestServer;
	let alice: { token: string };

	beforeAll(async () => {
		t = await startTestServer("sqlite");
		alice = await t.user("alice@example.org");
	});
	afterAll(async () => t?.close());

	it("answers a glob that would make a regular expression backtrack for minutes at once (list, download, delete)", async () => {
		const ws = await workspaceOf(t, alice.token, "globs");
		writeFileSync(join(ws, "a".repeat(200)), "x\n");
		writeFileSync(join(ws, "keep.txt"), "k\n");
		const evil = encodeURIComponent(`${"*a".repeat(12)}*b`);
		const started = Date.now();
		const listed = await t.call("GET", `/api/workflows/globs/workspace?file_name=${evil}`, { token: alice.token });
		expect(listed.status).toBe(200);
		expect(((await listed.json()) as { items: unknown[] }).items).toEqual([]);
		const download = await t.call("GET", `/api/workflows/globs/workspace/${evil}`, { token: alice.token });
		expect(download.status).toBe(404);
		const matched = await t.call("GET", `/api/workflows/globs/workspace?file_name=${encodeURIComponent("*a*a*a")}`, {
			token: alice.token,
		});
		expect(((await matched.json()) as { items: Array<{ name: string }> }).items.map((i) => i.name)).toEqual([
			"a".repeat(200),
		]);
		expect(Date.now() - started).toBeLessThan(5000);
		expect(existsSync(join(ws, "keep.txt"))).toBe(true);
		// A workspace file is served as data that no page of this origin can run as a script or a page.
		writeFileSync(join(ws, "evil.js"), "document.title = 'ran';\n");
		const script = await t.call("GET", "/api/workflows/globs/workspace/evil.js", { token: alice.token });
		expect(script.status).toBe(200);
		expect(script.headers.get("x-content-type-options")).toBe("nosniff");
		expect(script.headers.get("content-security-policy")).toBe("default-src 'none'; sandbox");
	});

	it("refuses to download a FIFO (400, at once) and keeps serving other files meanwhile", async () => {
		const ws = await workspaceOf(t, alice.token, "fifo");
		execFileSync("mkfifo", [join(ws, "pipe")]);
		mkdirSync(join(ws, "dir"));
		execFileSync("mkfifo", [join(ws, "dir", "pipe")]);
		writeFileSync(join(ws, "dir", "ok.txt"), "ok\n");
		for (let i = 0; i < 4; i++) {
			const res = await fetch(`${t.url}/api/workflows/fifo/workspace/pipe?access_token=${alice.token}`, {
				signal: AbortSignal.timeout(5000),
			});
			expect(res.status).toBe(400);
			const body = (await res.json()) as { message: string };
			expect(body.message).toMatch(/'pipe' is not a regular file/);
			expect(body.message).not.toContain("\n");
		}
		// A folder download leaves the FIFO out.
		const zip = await fetch(`${t.url}/api/workflows/fifo/workspace/dir?access_token=${alice.token}`, {
			signal: AbortSignal.timeout(5000),
		});
		expect(zip.status).toBe(200);
		expect(zipNames(Buffer.from(await zip.arrayBuffer()))).toEqual(["dir/ok.txt"]);
		const up = await t.call("POST", "/api/workflows/fifo/workspace?file_name=after.txt", {
			token: alice.token,
			raw: "after",
		});
		expect(up.status).toBe(200);
		expect(await (await t.call("GET", "/api/workflows/fifo/workspace/after.txt", { token: alice.token })).text()).toBe(
			"after",
		);
	});

	it("refuses a FIFO named in a tar download before the first byte", async () => {
		const ws = await workspaceOf(t, alice.token, "fifotar");
		execFileSync("mkfifo", [join(ws, "pipe")]);
		const res = await fetch(`${t.url}/api/workflows/fifotar/workspace-archive/download?access_token=${alice.token}`, {
			method: "POST",
			headers: { "content-type": "application/json" },
			body: JSON.stringify({ files: ["pipe"] }),
			signal: AbortSignal.timeout(5000),
		});
		expect(res.status).toBe(404);
	});

	it("answers checksums at once for a FIFO and a link to outside: neither is measured or hashed", async () => {
		const ws = await workspaceOf(t, alice.token, "digests");
		execFileSync("mkfifo", [join(ws, "pipe")]);
		const outside = mkdtempSync(join(tmpdir(), "orrery-digest-outside-"));
		writeFileSync(join(outside, "secret.txt"), "outside\n");
		symlinkSync(join(outside, "secret.txt"), join(ws, "link.txt"));
		writeFileSync(join(ws, "real.txt"), "real\n");
		try {
			const res = await fetch(`${t.url}/api/workflows/digests/workspace-digests?access_token=${alice.token}`, {
				method: "POST",
				headers: { "content-type": "application/json" },
				body: JSON.stringify({ files: [{ name: "pipe" }, { name: "link.txt" }, { name: "real.txt" }] }),
				signal: AbortSignal.timeout(5000),
			});
			expect(res.status).toBe(200);
			const { files } = (await res.json()) as {
				files: Array<{ name: string; size: number | null; sha256: string | null }>;
			};
			expect(files.map((f) => [f.name, f.size, f.sha256 === null])).toEqual([
				["pipe", null, true],
				["link.txt", null, true],
				["real.txt", 5, false],
			]);
		} finally {
			rmSync(outside, { recursive: true, force: true });
		}
	});

	it("deletes a link, not what it points to", async () => {
		const ws = await workspaceOf(t, alice.token, "links");
		mkdirSync(join(ws, "results"));
		writeFileSync(join(ws, "results", "run42.txt"), "42\n");
		symlinkSync("results/run42.txt", join(ws, "latest.txt"));
		symlinkSync("results", join(ws, "latest-dir"));
		const res = await t.call("DELETE", "/api/workflows/links/workspace/latest.txt", { token: alice.token });
		expect(res.status).toBe(200);
		expect(Object.keys(((await res.json()) as { deleted: object }).deleted)).toEqual(["latest.txt"]);
		expect(existsSync(join(ws, "latest.txt"))).toBe(false);
		expect(readFileSync(join(ws, "results", "run42.txt"), "utf8")).toBe("42\n");
		const dir = await t.call("DELETE", "/api/workflows/links/workspace/latest-dir", { token: alice.token });
		expect(dir.status).toBe(200);
		expect(existsSync(join(ws, "latest-dir"))).toBe(false);
		expect(readFileSync(join(ws, "results", "run42.txt"), "utf8")).toBe("42\n");
	});

	it("deletes a link to the workspace itself as a link, and never Orrery's folder through it", async () => {
		const ws = await workspaceOf(t, alice.token, "selflink");
		writeFileSync(join(ws, "keep.txt"), "keep\n");
		mkdirSync(join(ws, ".orrery"), { recursive: true });
		writeFileSync(join(ws, ".orrery", "mine"), "orrery\n");
		symlinkSync(".", join(ws, "self"));
		const internal = await t.call("DELETE", "/api/workflows/selflink/workspace/self/.orrery", { token: alice.token });
		expect(internal.status).toBe(400);
		expect(((await internal.json()) as { message: string }).message).toMatch(/reserved/);
		const res = await t.call("DELETE", "/api/workflows/selflink/workspace/self", { token: alice.token });
		expect(res.status).toBe(200);
		expect(existsSync(join(ws, "self"))).toBe(false);
		expect(readFileSync(join(ws, "keep.txt"), "utf8")).toBe("keep\n");
		expect(readFileSync(join(ws, ".orrery", "mine"), "utf8")).toBe("orrery\n");
	});

	it("deletes a folder holding a link to outside without touching what is outside", async () => {
		const ws = await workspaceOf(t, alice.token, "outlink");
		const outside = mkdtempSync(join(tmpdir(), "orrery-outside-"));
		writeFileSync(join(outside, "secret.txt"), "secret\n");
		mkdirSync(join(ws, "d"));
		writeFileSync(join(ws, "d", "a.txt"), "a\n");
		symlinkSync(outside, join(ws, "d", "out"));
		const res = await t.call("DELETE", "/api/workflows/outlink/workspace/d", { token: alice.token });
		expect(res.status).toBe(200);
		expect(existsSync(join(ws, "d"))).toBe(false);
		expect(readFileSync(join(outside, "secret.txt"), "utf8")).toBe("secret\n");
	});
});

describe("a workspace root reached through a symbolic link", () => {
	let t: TestServer;
	let alice: { token: string };

	beforeAll(async () => {
		const real = mkdtempSync(join(tmpdir(), "orrery-real-root-"));
		const link = join(mkdtempSync(join(tmpdir(), "orrery-linked-")), "workspaces");
		symlinkSync(real, link);
		t = await startTestServer("sqlite", { env: { ORRERY_WORKSPACE_ROOT: link } });
		alice = await t.user("alice@example.org");
	});
	afterAll(async () => t?.close());

	it("downloads and deletes a folder, naming its files relative to the workspace", async () => {
		const ws = await workspaceOf(t, alice.token, "linked");
		expect(realpathSync(ws)).not.toBe(ws);
		mkdirSync(join(ws, "results"));
		writeFileSync(join(ws, "results", "a.txt"), "a\n");
		const zip = await t.call("GET", "/api/workflows/linked/workspace/results", { token: alice.token });
		expect(zip.status).toBe(200);
		expect(zipNames(Buffer.from(await zip.arrayBuffer()))).toEqual(["results/a.txt"]);
		const res = await t.call("DELETE", "/api/workflows/linked/workspace/results", { token: alice.token });
		expect(res.status).toBe(200);
		expect(await res.json()).toEqual({ deleted: { "results/a.txt": { size: 2 } }, failed: {} });
		expect(existsSync(join(ws, "results"))).toBe(false);
	});
});
