import { execFileSync } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer, waitForStatus } from "../support/test-server.js";

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

const where = "if [ -e /usr/bin/node ]; then echo host; else echo container; fi > where.txt; id -u >> where.txt";

describe.skipIf(!hasPodman)(
	"steps with an environment image on the local backend (needs podman and its local image)",
	() => {
		let t: TestServer;
		let token: string;
		beforeAll(async () => {
			t = await startTestServer("sqlite", { env: { ORRERY_CONTAINER_RUNTIME: "podman" } });
			token = (await t.user("c@example.org")).token;
		});
		afterAll(async () => t?.close());

		it("runs the command in the image with the workspace mounted at the same path", async () => {
			const spec = {
				workflow: {
					type: "serial",
					specification: { steps: [{ name: "inside", environment: image, commands: [where] }] },
				},
			};
			await t.call("POST", "/api/workflows?workflow_name=boxed", { token, body: spec });
			await t.call("POST", "/api/workflows/boxed/start", { token, body: {} });
			const status = (await waitForStatus(t, token, "boxed")) as { status: string; message: string };
			expect(status.status, status.message).toBe("finished");
			const file = await t.call("GET", "/api/workflows/boxed/workspace/where.txt", { token });
			expect(await file.text()).toBe("container\n0\n");
			const jobs = (await (await t.call("GET", "/api/workflows/boxed/jobs", { token })).json()) as {
				items: Array<{ image_used: boolean }>;
			};
			expect(jobs.items[0]?.image_used).toBe(true);
		});

		it("fails the job with a clear message when the image cannot be found and podman is required", async () => {
			const spec = {
				workflow: {
					type: "serial",
					specification: { steps: [{ name: "missing", environment: "localhost/not-there:1", commands: ["true"] }] },
				},
			};
			await t.call("POST", "/api/workflows?workflow_name=noimage", { token, body: spec });
			await t.call("POST", "/api/workflows/noimage/start", { token, body: {} });
			const status = (await waitForStatus(t, token, "noimage", 120_000)) as { status: string; message: string };
			expect(status.status).toBe("failed");
			expect(status.message).toMatch(/image localhost\/not-there:1 is not present and could not be pulled/);
		});

		it("stops a containerised step and removes its container", async () => {
			const spec = {
				workflow: {
					type: "serial",
					specification: { steps: [{ name: "sleepy", environment: image, commands: ["sleep 60"] }] },
				},
			};
			await t.call("POST", "/api/workflows?workflow_name=sleepy", { token, body: spec });
			await t.call("POST", "/api/workflows/sleepy/start", { token, body: {} });
			let jobId = "";
			for (let i = 0; i < 100 && !jobId; i++) {
				await new Promise((r) => setTimeout(r, 100));
				const jobs = (await (await t.call("GET", "/api/workflows/sleepy/jobs", { token })).json()) as {
					items: Array<{ id: string; status: string }>;
				};
				if (jobs.items[0]?.status === "running") jobId = jobs.items[0].id;
			}
			expect(jobId).not.toBe("");
			const { workspace_path: workspace } = (await (
				await t.call("GET", "/api/workflows/sleepy/status", { token })
			).json()) as { workspace_path: string };
			// The step's container, by the command.sh it runs (in the job folder, inside the workspace).
			const containers = () =>
				execFileSync("podman", ["ps", "-a", "--no-trunc", "--format", "{{.Command}}"])
					.toString()
					.split("\n")
					.filter((command) => command.startsWith(`${workspace}/`));
			for (let i = 0; i < 100 && containers().length === 0; i++) await new Promise((r) => setTimeout(r, 100));
			expect(containers()).toHaveLength(1);
			const stop = await t.call("PUT", "/api/workflows/sleepy/status?status=stop", { token, body: {} });
			expect(await stop.json()).toMatchObject({ status: "stopped" });
			expect(containers()).toEqual([]);
		});
	},
);
