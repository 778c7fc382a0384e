// Files a user or a job may have planted: a link, a FIFO or a folder swapped for a link must be
// refused on the opened descriptor, at once or through the thread pool alike.
import { execFileSync } from "node:child_process";
import {
	closeSync,
	mkdirSync,
	mkdtempSync,
	readFileSync,
	realpathSync,
	renameSync,
	symlinkSync,
	writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
	openRegularFile,
	openUntrustedFile,
	openUntrustedFileSync,
	readRegularFile,
	readRegularFileSync,
	type UntrustedFile,
	type UntrustedFileOptions,
} from "./regular-file.js";

function setUp(): { root: string; outside: string } {
	const root = realpathSync(mkdtempSync(join(tmpdir(), "orrery-regular-")));
	const outside = realpathSync(mkdtempSync(join(tmpdir(), "orrery-regular-outside-")));
	writeFileSync(join(outside, "secret.txt"), "secret\n");
	mkdirSync(join(root, "sub"));
	mkdirSync(join(root, "own"));
	writeFileSync(join(root, "sub", "ok.txt"), "ok\n");
	writeFileSync(join(root, "own", "state"), "0\n");
	symlinkSync(join(outside, "secret.txt"), join(root, "link.txt"));
	execFileSync("mkfifo", [join(root, "pipe")]);
	return { root, outside };
}

/** What an open came to, its descriptor closed. */
function outcome(opened: UntrustedFile): string {
	if (!("fd" in opened)) return opened.refused;
	const text = readFileSync(opened.fd, "utf8");
	closeSync(opened.fd);
	return text;
}

const ways: Array<[string, (path: string, options?: UntrustedFileOptions) => Promise<UntrustedFile>]> = [
	["at once", async (path, options) => openUntrustedFileSync(path, options)],
	["through the thread pool", openUntrustedFile],
];

describe.each(ways)("opening an untrusted file (%s)", (_, openFile) => {
	it("opens a regular file and refuses a link, a FIFO (without waiting), a folder, or nothing", async () => {
		const { root } = setUp();
		expect(outcome(await openFile(join(root, "sub", "ok.txt")))).toBe("ok\n");
		expect(outcome(await openFile(join(root, "link.txt")))).toBe("link");
		expect(outcome(await openFile(join(root, "pipe")))).toBe("not_regular");
		expect(outcome(await openFile(join(root, "sub")))).toBe("not_regular");
		const missing = await openFile(join(root, "nothing"));
		expect(missing).toMatchObject({ refused: "missing", error: { code: "ENOENT" } });
		expect(outcome(await openFile(join(root, "sub", "ok.txt", "below")))).toBe("missing");
	});

	it("checks where the descriptor is: within the folder, and not in the folder excepted", async () => {
		const { root, outside } = setUp();
		const options = { within: root, except: join(root, "own") };
		expect(outcome(await openFile(join(root, "sub", "ok.txt"), options))).toBe("ok\n");
		expect(outcome(await openFile(join(root, "own", "state"), options))).toBe("outside");
		expect(outcome(await openFile(join(root, "own", "state"), { within: root }))).toBe("0\n");
		// The path was checked while `sub` was a folder; since then a job replaced it by a link to outside.
		renameSync(join(root, "sub"), join(root, "sub.old"));
		symlinkSync(outside, join(root, "sub"));
		expect(outcome(await openFile(join(root, "sub", "secret.txt"), options))).toBe("outside");
		// Without `within`, only the last part is checked.
		expect(outcome(await openFile(join(root, "sub", "secret.txt")))).toBe("secret\n");
	});
});

describe("reading a job's file of bounded size", () => {
	it("reads at most the bytes asked for, from the start or the end, and nothing of a link or a FIFO", async () => {
		const { root } = setUp();
		writeFileSync(join(root, "log"), "0123456789");
		expect(await readRegularFile(join(root, "log"), 4)).toMatchObject({ text: "0123", size: 10 });
		expect(await readRegularFile(join(root, "log"), 4, true)).toMatchObject({ text: "6789", size: 10 });
		expect(await readRegularFile(join(root, "log"), 100)).toMatchObject({ text: "0123456789", size: 10 });
		expect(readRegularFileSync(join(root, "log"), 4)).toMatchObject({ text: "0123", size: 10 });
		for (const name of ["link.txt", "pipe", "sub", "nothing"]) {
			expect(await readRegularFile(join(root, name), 100)).toBeUndefined();
			expect(readRegularFileSync(join(root, name), 100)).toBeUndefined();
			expect(await openRegularFile(join(root, name))).toBeUndefined();
		}
		const handle = await openRegularFile(join(root, "log"));
		expect((await handle?.stat())?.size).toBe(10);
		await handle?.close();
	});
});
