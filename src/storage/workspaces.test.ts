import { randomUUID } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readdir, readFile, rm, stat, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { checkWorkspaceRootTemplate } from "../config/index.js";
import { ownerMarkerName } from "./user-folders.js";
import { Workspaces } from "./workspaces.js";

let dir: string;
const owner = (email: string) => ({ id: randomUUID(), email });
const mode = async (path: string) => (await stat(path)).mode & 0o777;

beforeEach(async () => {
	dir = await mkdtemp(join(tmpdir(), "orrery-workspaces-"));
});
afterEach(async () => {
	await rm(dir, { recursive: true, force: true });
});

describe("the default layout", () => {
	it("puts workspaces at <root>/users/<user id>/workflows/<run id> with a 0700 user folder", async () => {
		const ws = new Workspaces({ root: join(dir, "root") });
		const alice = owner("alice@example.org");
		const run = randomUUID();
		const path = await ws.create(alice, run);
		expect(path).toBe(join(dir, "root", "users", alice.id, "workflows", run));
		expect(await mode(join(dir, "root", "users", alice.id))).toBe(0o700);
		expect(existsSync(join(path, ".orrery", "jobs"))).toBe(true);
		await ws.remove(path);
		expect(existsSync(path)).toBe(false);
	});

	it("refuses to delete a user folder, the root or a path outside it", async () => {
		const ws = new Workspaces({ root: join(dir, "root") });
		const alice = owner("alice@example.org");
		const path = await ws.create(alice, randomUUID());
		for (const bad of [
			join(dir, "root", "users", alice.id),
			join(dir, "root", "users"),
			dir,
			join(dir, "x", "workflows", randomUUID()),
		]) {
			await expect(ws.remove(bad), bad).rejects.toThrow(/refusing to delete/);
		}
		expect(existsSync(path)).toBe(true);
	});
});

describe("ORRERY_WORKSPACE_ROOT_TEMPLATE", () => {
	it("gives each user their own folder named after their email's local part, marked and 0700", async () => {
		const ws = new Workspaces({ root: join(dir, "root"), rootTemplate: `${dir}/projects/{user}/orrery` });
		const alice = owner("alice.smith@example.org");
		const run = randomUUID();
		const path = await ws.create(alice, run);
		const folder = join(dir, "projects", "alice.smith", "orrery");
		expect(path).toBe(join(folder, "workflows", run));
		expect(await mode(folder)).toBe(0o700);
		expect(await mode(join(folder, "workflows"))).toBe(0o700);
		expect((await readFile(join(folder, ownerMarkerName), "utf8")).trim()).toBe(alice.id);
		expect(existsSync(join(dir, "root"))).toBe(false);
		// A second run of the same user shares the folder.
		const second = await ws.create(alice, randomUUID());
		expect(await readdir(join(folder, "workflows"))).toHaveLength(2);
		await ws.remove(path);
		await ws.remove(second);
		expect(await readdir(join(folder, "workflows"))).toEqual([]);
	});

	it("names users by id with {id}", async () => {
		const ws = new Workspaces({ root: join(dir, "root"), rootTemplate: `${dir}/by-id/{id}` });
		const bob = owner("../bob@example.org");
		expect(ws.pathFor(bob, "r1")).toBe(join(dir, "by-id", bob.id, "workflows", "r1"));
	});

	it.each([
		"../../escape@example.org",
		"a/b@example.org",
		"..@example.org",
		".@example.org",
		".hidden@example.org",
		"a..b@example.org",
		"-rf@example.org",
		"a%2f..@example.org",
		"a b@example.org",
		"jörg@example.org",
		`${"x".repeat(65)}@example.org`,
	])("refuses the email %s instead of making a folder of it", async (email) => {
		const ws = new Workspaces({ root: join(dir, "root"), rootTemplate: `${dir}/projects/{user}/orrery` });
		const hostile = owner(email);
		await expect(ws.create(hostile, randomUUID())).rejects.toMatchObject({ code: "validation_failed" });
		expect(() => ws.pathFor(hostile, "r1")).toThrow(/cannot be a folder name/);
		expect(await readdir(dir)).toEqual([]);
	});

	it("refuses a second account the template maps to a folder already marked for another", async () => {
		const ws = new Workspaces({ root: join(dir, "root"), rootTemplate: `${dir}/projects/{user}/orrery` });
		await ws.create(owner("alice@example.org"), randomUUID());
		await expect(ws.create(owner("alice@elsewhere.org"), randomUUID())).rejects.toMatchObject({
			code: "conflict",
			message: expect.stringMatching(/belongs to another user/),
		});
		expect(await readdir(join(dir, "projects", "alice", "orrery", "workflows"))).toHaveLength(1);
	});

	it("uses a folder the site made without changing its mode, making only workflows/ 0700", async () => {
		await mkdir(join(dir, "projects", "carol"), { recursive: true, mode: 0o755 });
		const ws = new Workspaces({ root: join(dir, "root"), rootTemplate: `${dir}/projects/{user}` });
		const path = await ws.create(owner("carol@example.org"), randomUUID());
		expect(await mode(join(dir, "projects", "carol"))).toBe(0o755);
		expect(await mode(join(dir, "projects", "carol", "workflows"))).toBe(0o700);
		await ws.remove(path);
	});

	it("refuses a user folder or workflows/ folder that is a symbolic link, and never deletes through one", async () => {
		const ws = new Workspaces({ root: join(dir, "root"), rootTemplate: `${dir}/projects/{user}/orrery` });
		const bob = owner("bob@example.org");
		const bobsRun = await ws.create(bob, randomUUID());
		// Mallory points her Orrery folder at Bob's.
		await mkdir(join(dir, "projects", "mallory"), { recursive: true });
		await symlink(join(dir, "projects", "bob", "orrery"), join(dir, "projects", "mallory", "orrery"));
		await expect(ws.create(owner("mallory@example.org"), randomUUID())).rejects.toThrow(/not a plain directory/);
		const throughLink = join(dir, "projects", "mallory", "orrery", "workflows", bobsRun.split("/").at(-1) as string);
		expect(await ws.owns(throughLink)).toBe(false);
		await expect(ws.remove(throughLink)).rejects.toThrow(/refusing to delete/);
		expect(existsSync(bobsRun)).toBe(true);
		// A workflows/ folder replaced by a link is refused too.
		await mkdir(join(dir, "projects", "eve", "orrery"), { recursive: true });
		await symlink(
			join(dir, "projects", "bob", "orrery", "workflows"),
			join(dir, "projects", "eve", "orrery", "workflows"),
		);
		await expect(ws.create(owner("eve@example.org"), randomUUID())).rejects.toThrow(/not a plain directory/);
	});

	it("deletes workspaces of the default root and of an earlier template after the template changed, nothing unmarked", async () => {
		const old = new Workspaces({ root: join(dir, "root") });
		const before = await old.create(owner("dan@example.org"), randomUUID());
		const first = new Workspaces({ root: join(dir, "root"), rootTemplate: `${dir}/a/{user}/orrery` });
		const earlier = await first.create(owner("dan@example.org"), randomUUID());
		const now = new Workspaces({ root: join(dir, "root"), rootTemplate: `${dir}/b/{user}/orrery` });
		expect(await now.owns(before)).toBe(true);
		expect(await now.owns(earlier)).toBe(true);
		await now.remove(before);
		await now.remove(earlier);
		expect(existsSync(before) || existsSync(earlier)).toBe(false);
		// A folder shaped like a workspace but not marked by Orrery is not one.
		const unmarked = join(dir, "b", "dan", "data", "workflows", randomUUID());
		await mkdir(unmarked, { recursive: true });
		await writeFile(join(unmarked, "precious.txt"), "keep\n");
		await expect(now.remove(unmarked)).rejects.toThrow(/refusing to delete/);
		expect(existsSync(join(unmarked, "precious.txt"))).toBe(true);
	});

	it.each([
		["relative/{user}", /absolute path/],
		["/lustre/orrery", /name the user/],
		["/lustre/{name}/orrery", /unknown placeholder \{name\}/],
		["/lustre/{user}/../orrery", /'\.\.' segments/],
		["/lustre/{user/orrery", /'\{' or '\}'/],
	])("refuses the template %s at start", (template, message) => {
		expect(() => checkWorkspaceRootTemplate(template)).toThrow(message);
	});

	it("normalises the template", () => {
		expect(checkWorkspaceRootTemplate("//lustre//projects/{user}/orrery/")).toBe("/lustre/projects/{user}/orrery");
	});
});
