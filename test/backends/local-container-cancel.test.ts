import { execFileSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type BackendJob, LocalBackend } from "../../src/backends/index.js";

// Podman with the local image comes from ../shared/services/podman.sh, which .ci/run starts.
const image = process.env.PODMAN_TEST_IMAGE ?? "localhost/busybox:latest";
const hasPodman = (() => {
	try {
		execFileSync("podman", ["image", "exists", image]);
		return true;
	} catch {
		return false;
	}
})();
if (!hasPodman && process.env.CI)
	throw new Error(`CI must run the container tests: podman or ${image} is missing (run ../shared/services/podman.sh)`);

/** The running containers, by the command.sh they were started with (the job folder's). */
function runningContainers(): Map<string, string> {
	const out = execFileSync("podman", ["ps", "--no-trunc", "--format", "{{.Names}} {{.Command}}"]).toString();
	const byCommand = new Map<string, string>();
	for (const line of out.split("\n")) {
		const [name, command] = line.trim().split(" ");
		if (name && command) byCommand.set(command, name);
	}
	return byCommand;
}

async function containerOf(jobDir: string): Promise<string> {
	for (let i = 0; i < 200; i++) {
		const name = runningContainers().get(join(jobDir, "command.sh"));
		if (name) return name;
		await new Promise((r) => setTimeout(r, 50));
	}
	throw new Error(`no container started for ${jobDir}`);
}

describe.skipIf(!hasPodman)("local backend: cancelling a job in a container (needs podman and its local image)", () => {
	let backend: LocalBackend;
	let ws: string;
	const started: string[] = [];
	beforeAll(async () => {
		backend = await LocalBackend.create({ containerRuntime: "podman" });
		ws = mkdtempSync(join(tmpdir(), "orrery-container-cancel-"));
	});
	afterAll(async () => {
		if (started.length > 0) execFileSync("podman", ["rm", "--force", "--ignore", "--time", "0", ...started]);
		await backend?.close();
		rmSync(ws, { recursive: true, force: true });
	});

	const job = (folder: string): BackendJob => {
		const jobDir = join(ws, ".orrery/jobs/run", folder);
		mkdirSync(jobDir, { recursive: true });
		return {
			id: randomUUID(),
			jobDir,
			workspace: ws,
			workdir: ws,
			command: "sleep 60",
			image,
			env: {},
			resources: {},
			options: {},
		};
	};

	it("removes the job's own container, never the one its (job-writable) container file names", async () => {
		const a = job("00001-a-1");
		const b = job("00002-b-1");
		await backend.submit(a);
		await backend.submit(b);
		const [ofA, ofB] = await Promise.all([containerOf(a.jobDir), containerOf(b.jobDir)]);
		started.push(ofA, ofB);
		// What job a can do from inside its container: the workspace, and so its job folder, is mounted.
		writeFileSync(join(a.jobDir, "container"), `${ofB}\n`);
		await backend.cancel(a.jobDir);
		const running = [...runningContainers().values()];
		expect(running).toContain(ofB);
		expect(running).not.toContain(ofA);
		await backend.cancel(b.jobDir);
		expect([...runningContainers().values()]).not.toContain(ofB);
	});

	it("still removes the container of a job started before names came from the job folder, and only that one", async () => {
		// As an earlier version left them: a container named orrery-<job id>, named in the container file.
		const legacy = async (folder: string) => {
			const j = job(folder);
			const name = `orrery-${j.id}`;
			writeFileSync(join(j.jobDir, "command.sh"), "sleep 60\n");
			writeFileSync(join(j.jobDir, "container"), name);
			writeFileSync(join(j.jobDir, "pid"), "");
			const command = join(j.jobDir, "command.sh");
			const args = [
				"run",
				"-d",
				"--rm",
				"--name",
				name,
				"--volume",
				`${ws}:${ws}`,
				"--entrypoint",
				"sh",
				image,
				command,
			];
			execFileSync("podman", args);
			started.push(name);
			return { jobDir: j.jobDir, name };
		};
		const old = await legacy("00003-old-1");
		const other = await legacy("00004-other-1");
		// A job naming another job's container in the old form does not get it removed either.
		writeFileSync(join(old.jobDir, "container"), other.name);
		await backend.cancel(old.jobDir);
		expect([...runningContainers().values()]).toContain(other.name);
		await backend.cancel(other.jobDir);
		expect([...runningContainers().values()]).not.toContain(other.name);
		// The old job's own name, as it wrote it: removed.
		const again = await legacy("00005-again-1");
		await backend.cancel(again.jobDir);
		expect([...runningContainers().values()]).not.toContain(again.name);
	});
});
