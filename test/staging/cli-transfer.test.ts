import { randomBytes } from "node:crypto";
import {
	mkdirSync,
	mkdtempSync,
	readdirSync,
	readFileSync,
	statSync,
	symlinkSync,
	utimesSync,
	writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { orrery } from "../support/processes.js";

describe("orrery upload and download of trees", () => {
	const home = mkdtempSync(join(tmpdir(), "orrery-cli-tree-"));
	const dir = mkdtempSync(join(tmpdir(), "orrery-tree-"));
	const env = { ORRERY_HOME: home };
	const big = randomBytes(3 * 1024 * 1024);
	const write = (p: string, body: string | Buffer) => {
		mkdirSync(join(dir, p, ".."), { recursive: true });
		writeFileSync(join(dir, p), body);
	};

	beforeAll(async () => {
		write("reana.yaml", "workflow:\n  type: serial\n  specification:\n    steps:\n      - commands: ['true']\n");
		write("data/a.txt", "a\n");
		write("data/big.bin", big);
		write("data/deep/er/x.txt", "x\n");
		write("data/run.log", "ignored by .gitignore\n");
		write("data/build/out.o", "ignored folder\n");
		write("data/secret.txt", "ignored by .orreryignore\n");
		write("data/tmp/t.txt", "ignored by .reanaignore\n");
		write("data/deep/keep.log", "re-included below\n");
		for (let i = 0; i < 300; i++) write(`data/many/f${i}.txt`, `${i}\n`);
		write(".gitignore", "*.log\nbuild/\n");
		write(".orreryignore", "secret.txt\n");
		write("data/.reanaignore", "tmp/\n");
		write("data/deep/.gitignore", "!keep.log\n");
		const created = await orrery(["create", "-n", "tree"], env, { cwd: dir });
		expect(created.code, created.stderr).toBe(0);
	});

	it("uploads a tree in parallel, honouring the ignore files, and resumes without sending anything again", async () => {
		const first = await orrery(["upload", "-w", "tree", "data", "-j", "3"], env, { cwd: dir });
		expect(first.code, first.stderr).toBe(0);
		expect(first.stderr).toMatch(/uploaded 306 files/);
		const ls = await orrery(["ls", "-w", "tree", "--json"], env);
		const names = (JSON.parse(ls.stdout) as { items: Array<{ name: string }> }).items.map((i) => i.name);
		expect(names).toContain("data/big.bin");
		expect(names).toContain("data/deep/er/x.txt");
		expect(names).toContain("data/deep/keep.log");
		expect(names).toContain("data/many/f299.txt");
		for (const gone of ["data/run.log", "data/build/out.o", "data/secret.txt", "data/tmp/t.txt"])
			expect(names).not.toContain(gone);

		write("data/a.txt", "changed\n");
		const again = await orrery(["upload", "-w", "tree", "data"], env, { cwd: dir });
		expect(again.code, again.stderr).toBe(0);
		expect(again.stderr).toMatch(/uploaded 1 file .*; 305 unchanged, skipped/);
	});

	it("downloads a folder (small files in tar archives, large ones alone) and skips what is already here", async () => {
		const out = mkdtempSync(join(tmpdir(), "orrery-tree-out-"));
		const first = await orrery(["download", "-w", "tree", "data", "-o", out, "-j", "2"], env);
		expect(first.code, first.stderr).toBe(0);
		expect(first.stderr).toMatch(/downloaded 306 files/);
		expect(readFileSync(join(out, "data/big.bin")).equals(big)).toBe(true);
		expect(readFileSync(join(out, "data/a.txt"), "utf8")).toBe("changed\n");
		for (let i = 0; i < 300; i += 37) expect(readFileSync(join(out, `data/many/f${i}.txt`), "utf8")).toBe(`${i}\n`);
		// Folders that were missing were unpacked out of sight and moved into place: nothing hidden is left.
		expect(readdirSync(out)).toEqual(["data"]);
		// A folder that is a link of the user's own is followed, as before.
		const elsewhere = mkdtempSync(join(tmpdir(), "orrery-tree-elsewhere-"));
		const linked = mkdtempSync(join(tmpdir(), "orrery-tree-linked-"));
		symlinkSync(elsewhere, join(linked, "data"));
		const viaLink = await orrery(["download", "-w", "tree", "data", "-o", linked], env);
		expect(viaLink.code, viaLink.stderr).toBe(0);
		expect(readFileSync(join(elsewhere, "many/f37.txt"), "utf8")).toBe("37\n");
		// The workspace's modification times come along (to the second), so a rerun need not read the files.
		const listed = JSON.parse((await orrery(["ls", "-w", "tree", "--json"], env)).stdout) as {
			items: Array<{ name: string; "last-modified": string }>;
		};
		const remoteX = listed.items.find((i) => i.name === "data/deep/er/x.txt")?.["last-modified"] as string;
		expect(Math.floor(statSync(join(out, "data/deep/er/x.txt")).mtimeMs / 1000)).toBe(
			Math.floor(Date.parse(`${remoteX}Z`) / 1000), // REANA's form: UTC without a zone
		);
		// Same size, other content: found by its checksum and fetched again; same content, other time: kept.
		writeFileSync(join(out, "data/a.txt"), "edited!\n");
		utimesSync(join(out, "data/many/f1.txt"), new Date(2000, 0, 1), new Date(2000, 0, 1));
		const again = await orrery(["download", "-w", "tree", "data", "-o", out], env);
		expect(again.code, again.stderr).toBe(0);
		expect(again.stderr).toMatch(/downloaded 1 file .*; 305 unchanged, skipped/);
		expect(readFileSync(join(out, "data/a.txt"), "utf8")).toBe("changed\n");
	});

	it("accepts a tar archive piped to the API, and refuses links and paths that leave the workspace", async () => {
		const { execFileSync } = await import("node:child_process");
		const { OrreryServer } = await import("../../src/server/index.js");
		const { readServerConfig } = await import("../../src/config/index.js");
		const { pino } = await import("pino");
		const server = await OrreryServer.open({
			config: readServerConfig({ ORRERY_HOME: home, ORRERY_CONTAINER_RUNTIME: "none" }),
			logger: pino({ level: "silent" }),
			runScheduler: false,
		});
		try {
			const url = await server.listen("127.0.0.1", 0);
			const token = server.createSessionToken(await server.localUser());
			const post = (body: Buffer) =>
				fetch(`${url}/api/workflows/tree/workspace-archive`, {
					method: "POST",
					headers: { authorization: `Bearer ${token}`, "content-type": "application/x-tar" },
					body,
				});
			const good = execFileSync("tar", ["-c", "-f", "-", "-C", dir, "data/deep"]);
			const res = await post(good);
			expect(res.status, await res.clone().text()).toBe(200);
			expect(((await res.json()) as { files: number }).files).toBe(3);
			const linkDir = mkdtempSync(join(tmpdir(), "orrery-link-"));
			execFileSync("ln", ["-s", "/etc/passwd", join(linkDir, "pw")]);
			const bad = await post(execFileSync("tar", ["-c", "-f", "-", "-C", linkDir, "pw"]));
			expect(bad.status).toBe(400);
			expect(((await bad.json()) as { message: string }).message).toMatch(/pw in the archive is not a regular file/);
			const leaving = await post(
				execFileSync("tar", ["-c", "-f", "-", "-P", "--transform", "s,^,../,", "-C", dir, "reana.yaml"]),
			);
			expect(leaving.status).toBe(400);
			expect(((await leaving.json()) as { message: string }).message).toMatch(/'\.\.' is not allowed/);

			// Many files out as one tar archive: GNU tar reads it; a missing file, a link or a path that
			// leaves the workspace is refused before anything is sent.
			const download = (files: string[]) =>
				fetch(`${url}/api/workflows/tree/workspace-archive/download`, {
					method: "POST",
					headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
					body: JSON.stringify({ files }),
				});
			const ok = await download(["data/deep/er/x.txt", "data/a.txt"]);
			expect(ok.status).toBe(200);
			expect(ok.headers.get("content-type")).toBe("application/x-tar");
			const archive = Buffer.from(await ok.arrayBuffer());
			const names = execFileSync("tar", ["-t", "-f", "-"], { input: archive, encoding: "utf8" }).trim().split("\n");
			expect(names).toEqual(["data/deep/er/x.txt", "data/a.txt"]);
			const missing = await download(["data/a.txt", "data/nope.txt"]);
			expect(missing.status).toBe(404);
			expect(((await missing.json()) as { message: string }).message).toMatch(/'data\/nope.txt' is not a file/);
			const outside = await download(["../reana.yaml"]);
			expect(outside.status).toBe(400);
			const status = (await (
				await fetch(`${url}/api/workflows/tree/status`, { headers: { authorization: `Bearer ${token}` } })
			).json()) as { workspace_path: string };
			execFileSync("ln", ["-s", "/etc/passwd", join(status.workspace_path, "data", "pw")]);
			const link = await download(["data/pw"]);
			expect(link.status).toBe(404);
			const stranger = await fetch(`${url}/api/workflows/tree/workspace-archive/download`, {
				method: "POST",
				headers: { authorization: "Bearer wrong", "content-type": "application/json" },
				body: JSON.stringify({ files: ["data/a.txt"] }),
			});
			expect(stranger.status).toBe(403);
		} finally {
			await server.close();
		}
	});
});
