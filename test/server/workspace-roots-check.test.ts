// A server whose Kubernetes backend could not see the workspaces it would make refuses to start,
// instead of failing every job at submission. No Kubernetes API server runs here: the backend is the
// real one with a kubeconfig that is never contacted (the check happens before any call).
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { KubeConfig } from "@kubernetes/client-node";
import { pino } from "pino";
import { afterAll, describe, expect, it } from "vitest";
import type { ComputeBackend } from "../../src/backends/index.js";
import { KubernetesBackend } from "../../src/backends/kubernetes/kubernetes-backend.js";
import { readServerConfig } from "../../src/config/index.js";
import { OrreryServer } from "../../src/server/index.js";
import { kubernetesTestConfig } from "../support/kubernetes-config.js";

const home = mkdtempSync(join(tmpdir(), "orrery-roots-"));
afterAll(() => rmSync(home, { recursive: true, force: true }));

function kubernetes(mountPath: string): Map<string, ComputeBackend> {
	const kc = new KubeConfig();
	kc.loadFromOptions({
		clusters: [{ name: "c", server: "https://127.0.0.1:9", skipTLSVerify: true }],
		users: [{ name: "u", token: "t" }],
		contexts: [{ name: "x", cluster: "c", user: "u" }],
		currentContext: "x",
	});
	const backend = new KubernetesBackend({ ...kubernetesTestConfig, workspaceMountPath: mountPath }, kc);
	return new Map([["k8s", backend]]);
}

async function open(env: Record<string, string>, backends: Map<string, ComputeBackend>, logs: string[] = []) {
	const config = readServerConfig({ ORRERY_HOME: home, ORRERY_CONTAINER_RUNTIME: "none", ...env });
	const logger = pino({ level: "warn" }, { write: (line: string) => logs.push(line) });
	return OrreryServer.open({ config, logger, backends, runScheduler: false });
}

describe("workspace roots against a Kubernetes backend's volume (checked at start, no API server contacted)", () => {
	it("refuses to start when new workspaces would lie outside workspaceMountPath, naming both settings", async () => {
		await expect(
			open({ ORRERY_WORKSPACE_ROOT: "/srv/orrery/workspaces" }, kubernetes("/var/lib/orrery/workspaces")),
		).rejects.toThrow(
			"compute backend 'k8s' sees workspaces only below /var/lib/orrery/workspaces, but ORRERY_WORKSPACE_ROOT=/srv/orrery/workspaces puts them in /srv/orrery/workspaces",
		);
		await expect(
			open(
				{ ORRERY_WORKSPACE_ROOT: "/lustre/orrery", ORRERY_WORKSPACE_ROOT_TEMPLATE: "/lustre/projects/{user}/orrery" },
				kubernetes("/lustre/orrery"),
			),
		).rejects.toThrow(
			/ORRERY_WORKSPACE_ROOT_TEMPLATE=\/lustre\/projects\/\{user\}\/orrery puts them below \/lustre\/projects;/,
		);
	});

	it("starts when they lie below it, and warns about runs left in a root the pods cannot see", async () => {
		const inside = await open({ ORRERY_WORKSPACE_ROOT: "/lustre/orrery/ws" }, kubernetes("/lustre/orrery/"));
		await inside.close();
		const logs: string[] = [];
		const templated = await open(
			{ ORRERY_WORKSPACE_ROOT: join(home, "old"), ORRERY_WORKSPACE_ROOT_TEMPLATE: "/lustre/orrery/{user}" },
			kubernetes("/lustre/orrery"),
			logs,
		);
		await templated.close();
		expect(logs.join("")).toContain(
			`runs made in ORRERY_WORKSPACE_ROOT=${join(home, "old")} before the template was set`,
		);
	});
});
