import {
	existsSync,
	lstatSync,
	mkdirSync,
	mkdtempSync,
	readdirSync,
	readFileSync,
	rmSync,
	symlinkSync,
	writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer, waitForStatus } from "../support/test-server.js";

describe("stage-in removes the partial files a server killed mid-transfer left behind", () => {
	const base = mkdtempSync(join(tmpdir(), "orrery-stage-leftovers-"));
	const remote = join(base, "remote");
	const outside = join(base, "outside");
	let t: TestServer;
	let token: string;

	beforeAll(async () => {
		mkdirSync(remote);
		mkdirSync(outside);
		writeFileSync(join(remote, "x.fits"), "REMOTE BYTES\n");
		writeFileSync(join(outside, "victim.txt"), "keep me\n");
		t = await startTestServer("sqlite", { env: { ORRERY_STAGING_FILE_ROOTS: remote } });
		token = (await t.user("leftovers@example.org")).token;
	});
	afterAll(async () => {
		await t?.close();
		rmSync(base, { recursive: true, force: true });
	});

	it("removes only regular files named like its temporaries, in the folders it stages into", async () => {
		const spec = {
			inputs: { remote: [{ url: pathToFileURL(join(remote, "x.fits")).href, path: "data/x.fits" }] },
			workflow: { type: "serial", specification: { steps: [{ commands: ["cat data/x.fits > copy.txt"] }] } },
		};
		expect((await t.call("POST", "/api/workflows?workflow_name=leftovers", { token, body: spec })).status).toBe(201);
		const { workspace_path: ws } = (await (
			await t.call("GET", "/api/workflows/leftovers/status", { token })
		).json()) as { workspace_path: string };
		const data = join(ws, "data");
		mkdirSync(data, { recursive: true });
		mkdirSync(join(ws, "elsewhere"));
		// What a killed stage-in leaves: a temporary file beside its target.
		writeFileSync(join(data, ".x.fits.0123456789ab.orrery-staging"), "HALF");
		writeFileSync(join(data, ".y.fits.a1b2c3d4e5f6.orrery-staging"), "half of another file");
		// Not ours: names of another shape, a link and a folder of our shape, a folder not staged into.
		const kept = [
			".x.fits.orrery-staging",
			"x.fits.0123456789ab.orrery-staging",
			".x.fits.0123456789AB.orrery-staging",
			".x.fits.0123456789ab.orrery-staging.keep",
		];
		for (const name of kept) writeFileSync(join(data, name), "the user's own");
		symlinkSync(join(outside, "victim.txt"), join(data, ".v.txt.abcdefabcdef.orrery-staging"));
		symlinkSync(outside, join(data, ".o.abcdefabcdef.orrery-staging"));
		mkdirSync(join(data, ".d.abcdefabcdef.orrery-staging"));
		writeFileSync(join(ws, "elsewhere", ".z.fits.0123456789ab.orrery-staging"), "not staged into");

		expect((await t.call("POST", "/api/workflows/leftovers/start", { token, body: {} })).status).toBe(200);
		expect(await waitForStatus(t, token, "leftovers")).toMatchObject({ status: "finished" });

		expect(readdirSync(data).sort()).toEqual(
			[
				...kept,
				".d.abcdefabcdef.orrery-staging",
				".o.abcdefabcdef.orrery-staging",
				".v.txt.abcdefabcdef.orrery-staging",
				"x.fits",
			].sort(),
		);
		expect(readFileSync(join(data, "x.fits"), "utf8")).toBe("REMOTE BYTES\n");
		expect(lstatSync(join(data, ".v.txt.abcdefabcdef.orrery-staging")).isSymbolicLink()).toBe(true);
		expect(readFileSync(join(outside, "victim.txt"), "utf8")).toBe("keep me\n");
		expect(existsSync(join(ws, "elsewhere", ".z.fits.0123456789ab.orrery-staging"))).toBe(true);
	});
});
