import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { backendPlugins, createBackends, validateBackendSetting } from "../../src/backends/index.js";
import { readBackendsFile, readServerConfig } from "../../src/config/index.js";
import { OrreryServer } from "../../src/server/orrery-server.js";
import { slurmEnv } from "./slurm-service.js";

describe("configured backends (ORRERY_BACKENDS_FILE)", () => {
	let dir: string;
	beforeAll(() => {
		dir = mkdtempSync(join(tmpdir(), "orrery-backends-"));
	});
	afterAll(() => rmSync(dir, { recursive: true, force: true }));

	function file(name: string, text: string): string {
		const path = join(dir, name);
		writeFileSync(path, text);
		return path;
	}

	it("exports { kind, configSchema, create } from every backend folder", () => {
		expect(Object.keys(backendPlugins).sort()).toEqual(["htcondor", "kubernetes", "local", "slurm"]);
		for (const [kind, plugin] of Object.entries(backendPlugins)) {
			expect(plugin.kind).toBe(kind);
			expect(plugin.configSchema).toHaveProperty("type", "object");
			expect(typeof plugin.create).toBe("function");
		}
	});

	it("reads names, kinds (defaulting to the name), settings and ${VAR} references", () => {
		const path = file(
			"b.yaml",
			`default: cluster
backends:
  local: {}
  cluster:
    kind: slurm
    partition: debug
    rest: { url: "http://rest:6820", user: orrery, token: "\${SLURM_TOKEN}" }
`,
		);
		const { defaultName, entries } = readBackendsFile(path, { SLURM_TOKEN: "jwt-123" }, "none");
		expect(defaultName).toBe("cluster");
		expect(entries).toEqual([
			{ name: "local", kind: "local", settings: { containerRuntime: "none" } },
			{
				name: "cluster",
				kind: "slurm",
				settings: { partition: "debug", rest: { url: "http://rest:6820", user: "orrery", token: "jwt-123" } },
			},
		]);
		expect(() => readBackendsFile(path, {})).toThrow(/SLURM_TOKEN/);
	});

	it("says which file, backend and setting is wrong", async () => {
		expect(() => readBackendsFile(join(dir, "missing.yaml"))).toThrow(/cannot be read: no such file/);
		expect(() => readBackendsFile(file("c.yaml", "backends: []\n"))).toThrow(/at least one backend/);
		await expect(
			validateBackendSetting({ name: "hpc", kind: "slurm", settings: { partiton: "debug" } }, "backends.yaml"),
		).rejects.toThrow(/backends.yaml: backend 'hpc' \(slurm\): hpc: unknown setting partiton/);
		await expect(validateBackendSetting({ name: "x", kind: "pbs", settings: {} })).rejects.toThrow(
			/known kinds: local, slurm/,
		);
		const env = { ORRERY_BACKENDS_FILE: file("d.yaml", "backends:\n  slurm: {}\n"), ORRERY_DEFAULT_BACKEND: "local" };
		expect(() => readServerConfig(env)).toThrow(/default backend 'local' is not among the backends/);
	});

	it("fills in defaults from the schema", async () => {
		expect(await validateBackendSetting({ name: "s", kind: "slurm", settings: {} })).toMatchObject({
			pollIntervalMs: 10_000,
			transport: "cli",
			staging: "shared",
			arrayThreshold: 10,
		});
	});

	it("creates the configured backends and lists them, with REANA's names, in GET /api/info", async () => {
		slurmEnv();
		const home = mkdtempSync(join(dir, "home-"));
		const env = {
			ORRERY_HOME: home,
			ORRERY_BACKENDS_FILE: file("e.yaml", "backends:\n  local: {}\n  slurm:\n    partition: debug\n"),
			ORRERY_CONTAINER_RUNTIME: "none",
		};
		const server = await OrreryServer.open({ config: readServerConfig(env), runScheduler: false });
		try {
			const token = server.createSessionToken(await server.localUser());
			const res = await server.app.inject({ url: "/api/info", headers: { authorization: `Bearer ${token}` } });
			expect(res.statusCode).toBe(200);
			const backends = (res.json() as { compute_backends: { value: string[] } }).compute_backends.value;
			expect(backends).toEqual(expect.arrayContaining(["local", "slurm", "slurmcern"]));
			expect(backends).not.toContain("kubernetes");
		} finally {
			await server.close();
		}
	});

	it("closes backends already created when a later one fails", async () => {
		await expect(
			createBackends([
				{ name: "local", kind: "local", settings: { containerRuntime: "none" } },
				{
					name: "k8s",
					kind: "kubernetes",
					settings: {
						kubeconfig: join(dir, "nope"),
						workspaceVolume: { hostPath: { path: "/x" } },
						workspaceMountPath: "/x",
					},
				},
			]),
		).rejects.toMatchObject({ code: "validation_failed" });
	});
});
