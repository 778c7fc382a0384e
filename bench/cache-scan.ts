// What CACHE=on costs per job: the workspace scan before each job (first in a server's life: every
// file hashed; then: only what changed) and, on a hit, copying the earlier job's files in, each
// against the tool that does the same work: `sha256sum` over every file (4 processes), `find` stating
// every file, `cp` of the same files. Medians of 3 rounds; the files are in the page cache for both.
// Usage: npm run bench -- cache-scan [SMALL_FILES=10000] [LARGE_MIB=64]
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { applyChanges, changesBetween, FileDigests } from "../src/storage/index.js";
import { median, now, printTable, timeShell } from "./bench-kit.js";

const smallFiles = Number(process.argv[2] ?? 10_000);
const largeMiB = Number(process.argv[3] ?? 64);
const root = mkdtempSync(join(tmpdir(), "orrery-bench-cache-"));
const source = join(root, "source");
mkdirSync(source);
for (let d = 0; d < smallFiles / 100; d++) {
	mkdirSync(join(source, `chunk${d}`));
	for (let f = 0; f < 100; f++) writeFileSync(join(source, `chunk${d}`, `part${f}.csv`), `${d},${f},`.repeat(400));
}
const large = Buffer.alloc(largeMiB * 1024 * 1024);
for (let i = 0; i < large.length; i += 4096) large[i] = i % 251;
for (let i = 0; i < 4; i++) writeFileSync(join(source, `catalogue${i}.fits`), large);
const totalMiB = (smallFiles * 2000 + 4 * large.length) / 1024 / 1024;

async function timed(run: () => Promise<unknown> | unknown): Promise<number> {
	const t = now();
	await run();
	return now() - t;
}
async function rounds(run: () => Promise<unknown> | unknown, prepare?: () => void): Promise<number> {
	const times: number[] = [];
	for (let r = 0; r < 3; r++) {
		prepare?.();
		times.push(await timed(run));
	}
	return median(times);
}

const rows: Array<Array<string | number>> = [];
const cold = await rounds(() => new FileDigests().scan(source));
const sha = await rounds(() =>
	timeShell(`cd '${source}' && find . -type f -print0 | xargs -0 -n 200 -P4 sha256sum > /dev/null`),
);
rows.push(["first scan (every file hashed)", cold, sha, "find | xargs -P4 sha256sum", cold / sha]);

const digests = new FileDigests();
const before = await digests.scan(source);
const warm = await rounds(() => digests.scan(source));
const stat = await rounds(() => timeShell(`cd '${source}' && find . -type f -printf '%s %T@ %i\\n' > /dev/null`));
rows.push(["next scan (nothing changed)", warm, stat, "find -printf size, mtime, inode", warm / stat]);

// A hit: everything in the source was written by the job (the worst case: every byte is copied and checked).
const changes = changesBetween(new Map(), before);
let target = "";
let n = 0;
const fresh = () => {
	target = join(root, `target${n++}`);
	mkdirSync(target);
};
const apply = await rounds(
	() => applyChanges({ workspace: target, folder: "" }, { workspace: source, folder: "" }, changes, new Map()),
	fresh,
);
const cp = await rounds(() => timeShell(`cp -r '${source}/.' '${target}/'`), fresh);
rows.push(["reuse: copy every file in, checked", apply, cp, "cp -r", apply / cp]);

printTable(
	`CACHE=on, a workspace of ${smallFiles} files of 2 kB and 4 of ${largeMiB} MiB (${totalMiB.toFixed(0)} MiB), medians of 3 (ms)`,
	["operation", "Orrery", "peer", "peer command", "ratio"],
	rows,
);
rmSync(root, { recursive: true, force: true });
process.exit(0);
