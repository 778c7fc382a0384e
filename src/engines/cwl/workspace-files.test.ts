import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { isOnLocalDisk, type WorkspaceFiles, workspaceFiles } from "../../storage/index.js";
import { formatMatches, parseOntology } from "./format-ontology.js";
import { globOutputs } from "./output-glob.js";

let root: string;
let outside: string;
let files: WorkspaceFiles;

beforeEach(() => {
	root = mkdtempSync(join(tmpdir(), "orrery-cwl-ws-"));
	outside = mkdtempSync(join(tmpdir(), "orrery-cwl-outside-"));
	files = workspaceFiles(root);
	mkdirSync(join(root, "job/out/sub"), { recursive: true });
	for (const f of ["b.txt", "a.txt", ".hidden", "sub/c.txt"]) writeFileSync(join(root, "job/out", f), f);
	writeFileSync(join(outside, "secret"), "secret");
});

afterEach(() => {
	rmSync(root, { recursive: true, force: true });
	rmSync(outside, { recursive: true, force: true });
});

describe("reading the workspace", () => {
	test("globs outputs as POSIX glob does: sorted, no hidden files for *, paths inside the output directory", async () => {
		const out = join(root, "job/out");
		expect(await globOutputs("*.txt", out, files)).toEqual([join(out, "a.txt"), join(out, "b.txt")]);
		expect(await globOutputs("*", out, files)).not.toContain(join(out, ".hidden"));
		expect(await globOutputs("sub/*.txt", out, files)).toEqual([join(out, "sub/c.txt")]);
		expect(await globOutputs(".", out, files)).toEqual([out]);
		expect(await globOutputs(`${out}/a.txt`, out, files)).toEqual([join(out, "a.txt")]);
		await expect(globOutputs("../*", out, files)).rejects.toThrow(/must not contain '\.\.'/);
	});

	test.each([
		["at once (a local disk)", true],
		["through the thread pool (a shared filesystem)", false],
	])("refuses a symlink a tool made that leads out of the workspace, with file calls %s", async (_, isLocalDisk) => {
		const reader = workspaceFiles(root, { isLocalDisk });
		symlinkSync(join(outside, "secret"), join(root, "job/out/escape"));
		await expect(reader.readText(join(root, "job/out/escape"))).rejects.toThrow(/outside the workspace/);
		await expect(reader.readText(join(outside, "secret"))).rejects.toThrow(/outside the workflow's workspace/);
		await expect(reader.list(join(root, "job/out/escape"))).rejects.toThrow(/outside the workspace/);
		expect(await reader.stat(join(root, "job/out/missing"))).toBeUndefined();
		expect(await reader.stat(join(root, "job/out/sub"))).toEqual({ isDirectory: true, size: expect.any(Number) });
		expect(await reader.sha1(join(root, "job/out/a.txt"))).toBe("cfc7b4885384957ae445bc14914d4588f607651c");
		// Past 1 MiB the checksum is streamed; the answer is the same.
		writeFileSync(join(root, "big.bin"), Buffer.alloc(3 * 1024 * 1024 + 1, 7));
		const { createHash } = await import("node:crypto");
		const expected = createHash("sha1")
			.update(Buffer.alloc(3 * 1024 * 1024 + 1, 7))
			.digest("hex");
		expect(await reader.sha1(join(root, "big.bin"))).toBe(expected);
		expect((await reader.list(join(root, "job/out"))).map((e) => e.name)).toEqual([
			".hidden",
			"a.txt",
			"b.txt",
			"escape",
			"sub",
		]);
	});

	test("a view for one task checks and stats each path once, and refuses what the workspace refuses", async () => {
		const a = join(root, "job/out/a.txt");
		const view = files.once();
		expect(await view.stat(a)).toEqual({ isDirectory: false, size: 5 });
		writeFileSync(a, "longer now");
		// The view answers from its first look; the workspace (and a new view) from the file as it is.
		expect(await view.stat(a)).toEqual({ isDirectory: false, size: 5 });
		expect(await files.stat(a)).toEqual({ isDirectory: false, size: 10 });
		expect(await files.once().stat(a)).toEqual({ isDirectory: false, size: 10 });
		expect(await view.readText(a)).toBe("longer now"); // contents are read each time
		symlinkSync(join(outside, "secret"), join(root, "job/out/escape"));
		await expect(view.sha1(join(root, "job/out/escape"))).rejects.toThrow(/outside the workspace/);
		await expect(view.stat(join(root, "job/out/escape"))).rejects.toThrow(/outside the workspace/);
		expect(await view.stat(join(root, "job/out/missing"))).toBeUndefined();
	});

	test("tells a disk of this machine from anything else", () => {
		expect(isOnLocalDisk(root)).toBe(true); // the temporary folder: ext4, tmpfs or overlayfs here
		expect(isOnLocalDisk("/proc")).toBe(false); // procfs: not a disk filesystem
		expect(isOnLocalDisk(join(root, "missing"))).toBe(false);
	});

	test("reads at most 64 KiB heads and says whether the file is longer", async () => {
		writeFileSync(join(root, "big"), "x".repeat(70_000));
		const head = await files.readHead(join(root, "big"), 65_536);
		expect(head.text).toHaveLength(65_536);
		expect(head.isTruncated).toBe(true);
	});
});

describe("format ontologies", () => {
	test("follow subClassOf and equivalentClass in RDF/XML and Turtle", async () => {
		writeFileSync(
			join(root, "onto.owl"),
			`<rdf:RDF><owl:Class rdf:about="http://x/fasta"><rdfs:subClassOf rdf:resource="http://x/sequence"/></owl:Class></rdf:RDF>`,
		);
		writeFileSync(
			join(root, "gx.ttl"),
			"@prefix gx: <http://g/> .\n@prefix owl: <http://www.w3.org/2002/07/owl#> .\n@prefix x: <http://x/> .\ngx:fa owl:equivalentClass x:fasta .\n",
		);
		const schemas = [join(root, "onto.owl"), join(root, "gx.ttl")];
		expect(await formatMatches("http://x/fasta", "http://x/sequence", schemas, files)).toBe(true);
		expect(await formatMatches("http://x/fasta", "http://g/fa", schemas, files)).toBe(true);
		expect(await formatMatches("http://x/sequence", "http://x/fasta", schemas, files)).toBe(false);
		expect(parseOntology("<rdf:RDF/>").size).toBe(0);
	});
});
