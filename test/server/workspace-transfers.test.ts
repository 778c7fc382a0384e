// Tar transfers and uploads against what can change under them (a folder swapped for a link in the
// middle of a transfer) and against bad input (damaged sizes, names too long, files where folders go).
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../support/test-server.js";

const spec = {
	version: "0.9.0",
	workflow: { type: "serial", specification: { steps: [{ name: "s", commands: ["true"] }] } },
};

/** One tar header block (ustar): name, size and type; the checksum filled in. */
function header(name: string, size: number, type = "0"): Buffer {
	const h = Buffer.alloc(512);
	h.write(name, 0, 100, "utf8");
	h.write("0000644\0", 100, "ascii");
	h.write("0000000\0", 108, "ascii");
	h.write("0000000\0", 116, "ascii");
	h.write(`${size.toString(8).padStart(11, "0")}\0`, 124, "ascii");
	h.write("00000000000\0", 136, "ascii");
	h.write("        ", 148, "ascii");
	h.write(type, 156, "ascii");
	h.write("ustar\0", 257, "ascii");
	h.write("00", 263, "ascii");
	let sum = 0;
	for (const b of h) sum += b;
	h.write(`${sum.toString(8).padStart(6, "0")}\0 `, 148, "ascii");
	return h;
}

function padded(data: Buffer): Buffer {
	return Buffer.concat([data, Buffer.alloc((512 - (data.length % 512)) % 512)]);
}

/** A tar entry: a pax header first when `pax` records are given. */
function entry(name: string, data: Buffer | string, pax?: Record<string, string>): Buffer {
	const body = Buffer.from(data);
	const parts: Buffer[] = [];
	if (pax) {
		const records = Object.entries(pax).map(([k, v]) => {
			const text = ` ${k}=${v}\n`;
			let len = text.length + 2;
			while (`${len}${text}`.length !== len) len = `${len}${text}`.length;
			return `${len}${text}`;
		});
		const paxData = Buffer.from(records.join(""));
		parts.push(header("PaxHeader", paxData.length, "x"), padded(paxData));
	}
	parts.push(header(name.slice(0, 100), body.length), padded(body));
	return Buffer.concat(parts);
}

const end = Buffer.alloc(1024);

describe("workspace transfers", () => {
	let t: TestServer;
	let alice: { token: string };

	beforeAll(async () => {
		t = await startTestServer("sqlite", { env: { ORRERY_MAX_UPLOAD_BYTES: "1000000" } });
		alice = await t.user("alice@example.org");
	});
	afterAll(async () => t?.close());

	async function workspaceOf(name: string): Promise<string> {
		const res = await t.call("POST", `/api/workflows?workflow_name=${name}`, { token: alice.token, body: spec });
		expect(res.status).toBe(201);
		const status = (await (await t.call("GET", `/api/workflows/${name}/status`, { token: alice.token })).json()) as {
			workspace_path: string;
		};
		return status.workspace_path;
	}

	function upload(name: string, archive: Buffer): Promise<Response> {
		return t.call("POST", `/api/workflows/${name}/workspace-archive`, {
			token: alice.token,
			raw: archive,
			headers: { "content-type": "application/x-tar" },
		});
	}

	it("writes no file outside when a folder becomes a link to outside in the middle of a tar upload", async () => {
		const ws = await workspaceOf("swapup");
		const outside = mkdtempSync(join(tmpdir(), "orrery-outside-"));
		mkdirSync(join(ws, "sub"));
		let send: (chunk: Buffer | null) => void = () => undefined;
		const body = new ReadableStream<Uint8Array>({
			start(controller) {
				send = (chunk) => (chunk ? controller.enqueue(chunk) : controller.close());
			},
		});
		const answer = fetch(`${t.url}/api/workflows/swapup/workspace-archive?access_token=${alice.token}`, {
			method: "POST",
			headers: { "content-type": "application/x-tar" },
			body,
			duplex: "half",
		} as RequestInit);
		send(entry("sub/one.txt", "one\n"));
		for (let i = 0; !existsSync(join(ws, "sub", "one.txt")); i++) {
			expect(i).toBeLessThan(200);
			await new Promise((r) => setTimeout(r, 25));
		}
		// A job replaces the folder by a link to outside.
		renameSync(join(ws, "sub"), join(ws, "sub.old"));
		symlinkSync(outside, join(ws, "sub"));
		send(entry("sub/evil.txt", "written outside\n"));
		send(end);
		send(null);
		const res = await answer;
		expect(res.status).toBe(400);
		expect(((await res.json()) as { message: string }).message).toMatch(/'sub\/evil.txt' was replaced by a link/);
		expect(existsSync(join(outside, "evil.txt"))).toBe(false);
	});

	it("sends nothing from outside when a folder becomes a link to outside in the middle of a tar download", async () => {
		const ws = await workspaceOf("swapdown");
		const outside = mkdtempSync(join(tmpdir(), "orrery-outside-"));
		writeFileSync(join(outside, "secret.txt"), "TOP SECRET\n");
		// A large first file, so that the archive is still being produced when the swap happens.
		writeFileSync(join(ws, "big.bin"), Buffer.alloc(32 * 1024 * 1024, 1));
		mkdirSync(join(ws, "sub"));
		writeFileSync(join(ws, "sub", "secret.txt"), "harmless!!\n"); // the same size as the secret
		const res = await t.call("POST", "/api/workflows/swapdown/workspace-archive/download", {
			token: alice.token,
			body: { files: ["big.bin", "sub/secret.txt"] },
		});
		expect(res.status).toBe(200);
		const reader = (res.body as ReadableStream<Uint8Array>).getReader();
		const got: Buffer[] = [Buffer.from((await reader.read()).value ?? [])];
		renameSync(join(ws, "sub"), join(ws, "sub.old"));
		symlinkSync(outside, join(ws, "sub"));
		let failed = false;
		try {
			for (;;) {
				const { done, value } = await reader.read();
				if (done) break;
				got.push(Buffer.from(value));
			}
		} catch {
			failed = true; // the archive is cut off: the server refused the swapped file
		}
		expect(Buffer.concat(got).includes("TOP SECRET")).toBe(false);
		expect(failed).toBe(true);
	});

	it("refuses a tar entry whose pax size is not a number, before writing anything (400)", async () => {
		const ws = await workspaceOf("nan");
		const small = await startTestServer("sqlite", { env: { ORRERY_MAX_UPLOAD_BYTES: "1000" } });
		try {
			const bob = await small.user("bob@example.org");
			await small.call("POST", "/api/workflows?workflow_name=nan", { token: bob.token, body: spec });
			const archive = Buffer.concat([
				entry("first", "", { size: "abc" }),
				entry("big.bin", Buffer.alloc(5000, 66)),
				end,
			]);
			const res = await small.call("POST", "/api/workflows/nan/workspace-archive", {
				token: bob.token,
				raw: archive,
				headers: { "content-type": "application/x-tar" },
			});
			expect(res.status).toBe(400);
			expect(((await res.json()) as { message: string }).message).toMatch(/first in the archive has an invalid size/);
			const ls = (await (await small.call("GET", "/api/workflows/nan/workspace", { token: bob.token })).json()) as {
				items: unknown[];
			};
			expect(ls.items).toEqual([]);
		} finally {
			await small.close();
		}
		for (const size of ["-5", "1e3", "9007199254740993"]) {
			const res = await upload("nan", Buffer.concat([entry("x", "", { size }), end]));
			expect(res.status).toBe(400);
		}
		expect(existsSync(join(ws, "x"))).toBe(false);
	});

	it("unpacks a tar entry with a long name into an existing folder; refuses one too long (400) and a file over a folder (409)", async () => {
		const ws = await workspaceOf("longtar");
		const long = "a".repeat(240);
		const res = await upload("longtar", Buffer.concat([entry(long, "long\n", { path: long }), end]));
		expect(res.status).toBe(200);
		expect(readFileSync(join(ws, long), "utf8")).toBe("long\n");
		const tooLong = "b".repeat(300);
		const bad = await upload("longtar", Buffer.concat([entry(tooLong, "x", { path: tooLong }), end]));
		expect(bad.status).toBe(400);
		expect(((await bad.json()) as { message: string }).message).toMatch(/is too long/);
		mkdirSync(join(ws, "folder"));
		const over = await upload("longtar", Buffer.concat([entry("folder", "x"), end]));
		expect(over.status).toBe(409);
		expect(((await over.json()) as { message: string }).message).toMatch(/'folder' is a folder/);
		writeFileSync(join(ws, "file"), "f\n");
		const under = await upload("longtar", Buffer.concat([entry("file/inside.txt", "x"), end]));
		expect(under.status).toBe(400);
	});

	it("answers 400 for an upload or a move whose name is too long or goes through a file", async () => {
		await workspaceOf("names");
		const call = (method: string, path: string) => t.call(method, path, { token: alice.token, raw: "x" });
		const expect400 = async (res: Promise<Response>, pattern: RegExp) => {
			const r = await res;
			const body = (await r.json()) as { message: string };
			expect({ status: r.status, message: body.message }).toMatchObject({ status: 400 });
			expect(body.message).toMatch(pattern);
			expect(body.message).not.toMatch(/\/tmp|\n/);
		};
		await expect400(call("POST", `/api/workflows/names/workspace?file_name=${"n".repeat(300)}`), /is too long/);
		expect((await call("POST", "/api/workflows/names/workspace?file_name=dir/f")).status).toBe(200);
		await expect400(call("POST", "/api/workflows/names/workspace?file_name=dir/f/g"), /is a file/);
		expect((await call("POST", "/api/workflows/names/workspace?file_name=other.txt")).status).toBe(200);
		await expect400(call("PUT", "/api/workflows/move_files/names?source=other.txt&target=dir/f/g"), /is a file/);
		await expect400(
			call("PUT", `/api/workflows/move_files/names?source=other.txt&target=${"m".repeat(300)}`),
			/is too long/,
		);
	});
});
