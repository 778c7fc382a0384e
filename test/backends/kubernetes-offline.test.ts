import { mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer, type IncomingMessage, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { KubeConfig, type V1Job, type V1Pod } from "@kubernetes/client-node";
import { Ajv } from "ajv";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import type { BackendJob } from "../../src/backends/index.js";
import {
	jobManifest,
	type KubernetesConfig,
	kubernetesJobName,
	observeKubernetesJob,
	orrerySelector,
} from "../../src/backends/kubernetes/index.js";
import { KubernetesBackend } from "../../src/backends/kubernetes/kubernetes-backend.js";
import { kubernetesTestConfig } from "../support/kubernetes-config.js";

const fixtures = resolve(import.meta.dirname, "../fixtures/kubernetes");
const yamlFixture = <T>(name: string): T => parse(readFileSync(join(fixtures, name), "utf8")) as T;

const config: KubernetesConfig = kubernetesTestConfig;
const ws = "/var/lib/orrery/workspaces/u1/w1";
const job: BackendJob = {
	id: "3F2A9C1E-77b0-4c1e-9a55-0d6c3c1b2f10",
	jobDir: `${ws}/.orrery/jobs/00001-fit-1`,
	workspace: ws,
	workdir: `${ws}/code`,
	command: "python fit.py",
	image: "reanahub/reana-env-root6:6.18.04",
	env: {},
	resources: { memoryMiB: 2048, timeLimitSeconds: 600, gpus: 1 },
	options: {
		kubernetes_memory_limit: "2Gi",
		kubernetes_cpu_request: "500m",
		kubernetes_cpu_limit: "2",
		kubernetes_uid: 1000,
		kubernetes_job_timeout: 600,
	},
};

/** A validator for a definition of the stored Kubernetes 1.36 OpenAPI subset, rejecting unknown fields like `fieldValidation=Strict`. */
function validatorFor(definition: string) {
	const doc = JSON.parse(readFileSync(join(fixtures, "kubernetes-1.36-batch-job.openapi.json"), "utf8")) as {
		definitions: Record<string, Record<string, unknown>>;
	};
	for (const schema of Object.values(doc.definitions)) {
		if (schema.properties && schema.additionalProperties === undefined) schema.additionalProperties = false;
	}
	const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: false });
	ajv.addSchema({ $id: "k8s", definitions: doc.definitions });
	return ajv.compile({ $ref: `k8s#/definitions/${definition}` });
}

describe("kubernetes (offline: generated manifests against the 1.36 OpenAPI schema, captured status objects)", () => {
	const validateJob = validatorFor("io.k8s.api.batch.v1.Job");

	it("generates a Job that the Kubernetes 1.36 schema accepts, and the schema check catches mistakes", () => {
		const manifest = jobManifest(job, config);
		expect(validateJob(manifest), JSON.stringify(validateJob.errors)).toBe(true);
		const hostPath = jobManifest(job, { ...config, workspaceVolume: { hostPath: { path: "/srv/orrery" } } });
		expect(validateJob(hostPath), JSON.stringify(validateJob.errors)).toBe(true);
		const broken = structuredClone(manifest) as unknown as { spec: { template: { spec: Record<string, unknown> } } };
		broken.spec.template.spec.restartpolicy = "Never";
		expect(validateJob(broken)).toBe(false);
	});

	it("runs once (backoffLimit 0, restartPolicy Never) with REANA's kubernetes_* keys applied", () => {
		const m = jobManifest(job, config);
		expect(m.spec?.backoffLimit).toBe(0);
		expect(m.spec?.activeDeadlineSeconds).toBe(600);
		const pod = m.spec?.template.spec;
		expect(pod?.restartPolicy).toBe("Never");
		expect(pod?.securityContext?.runAsUser).toBe(1000);
		const [c] = pod?.containers ?? [];
		expect(c?.image).toBe("reanahub/reana-env-root6:6.18.04");
		expect(c?.command).toEqual(["/bin/sh", `${job.jobDir}/run.sh`]);
		expect(c?.workingDir).toBe(job.workdir);
		expect(c?.resources).toEqual({
			requests: { cpu: "500m", memory: "2Gi" },
			limits: { cpu: "2", memory: "2Gi", "nvidia.com/gpu": "1" },
		});
		expect(c?.volumeMounts).toEqual([{ name: "workspace", mountPath: config.workspaceMountPath }]);
		expect(pod?.volumes).toEqual([{ name: "workspace", persistentVolumeClaim: { claimName: "orrery-shared" } }]);
	});

	it("names and labels Jobs so one selector lists exactly this server's jobs", () => {
		const m = jobManifest(job, config);
		expect(m.metadata?.name).toBe("orrery-3f2a9c1e-77b0-4c1e-9a55-0d6c3c1b2f10");
		expect(m.metadata?.name).toMatch(/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/);
		expect(kubernetesJobName("A".repeat(80))).toHaveLength(63);
		expect(m.metadata?.labels).toMatchObject({
			"app.kubernetes.io/managed-by": "orrery",
			"orrery.io/instance": "orrery",
		});
		expect(m.spec?.template.metadata?.labels).toEqual(m.metadata?.labels);
		expect(orrerySelector(config)).toBe("app.kubernetes.io/managed-by=orrery,orrery.io/instance=orrery");
	});

	it("refuses job folders outside the mounted workspace root and malformed quantities", () => {
		expect(() => jobManifest({ ...job, jobDir: "/elsewhere/j" }, config)).toThrow(/workspaceMountPath/);
		expect(() => jobManifest({ ...job, options: { kubernetes_memory_limit: "2 GB" } }, config)).toThrow(/quantity/);
	});

	it("maps captured Job and Pod status objects", () => {
		const asJob = (file: string) => ({
			...yamlFixture<V1Job>(file),
			spec: { activeDeadlineSeconds: 15, template: {} },
		});
		const folder = { hasStarted: true };
		expect(observeKubernetesJob(asJob("job-status-running.yaml"), undefined, folder)).toEqual({ state: "queued" });
		const runningPod = { status: { phase: "Running" } } as V1Pod;
		expect(observeKubernetesJob(asJob("job-status-running.yaml"), runningPod, folder)).toMatchObject({
			state: "running",
		});
		expect(observeKubernetesJob(asJob("job-status-complete.yaml"), undefined, folder)).toMatchObject({
			state: "exited",
			exitCode: 0,
		});
		expect(observeKubernetesJob(asJob("job-status-backoff-limit.yaml"), undefined, folder)).toMatchObject({
			state: "exited",
			exitCode: 1,
			reason: expect.stringContaining("BackoffLimitExceeded"),
		});
		expect(
			observeKubernetesJob(asJob("job-status-backoff-limit.yaml"), undefined, { ...folder, exitCode: 3 }),
		).toMatchObject({ state: "exited", exitCode: 3 });
		expect(observeKubernetesJob(asJob("job-status-deadline.yaml"), undefined, folder)).toMatchObject({
			state: "exited",
			exitCode: 143,
			reason: expect.stringMatching(/time limit \(activeDeadlineSeconds=15\).*kubernetes_job_timeout/),
		});
		const oomPod = yamlFixture<V1Pod>("pod-status-oomkilled.yaml");
		expect(observeKubernetesJob(asJob("job-status-backoff-limit.yaml"), oomPod, folder)).toMatchObject({
			state: "exited",
			exitCode: 137,
			reason: expect.stringMatching(/^out of memory.*1953125Ki.*kubernetes_memory_limit/),
		});
	});

	it("treats evicted pods as infrastructure failures and unpullable images as the step's error", () => {
		// Hand-written from the Pod API's fields (no captured eviction was found): status.reason Evicted.
		const evicted = {
			status: { phase: "Failed", reason: "Evicted", message: "The node was low on resource: memory." },
		} as V1Pod;
		const failed = {
			status: { failed: 1, conditions: [{ type: "Failed", status: "True", reason: "PodFailurePolicy" }] },
		};
		expect(observeKubernetesJob(failed as V1Job, evicted, { hasStarted: false })).toMatchObject({
			state: "lost",
			reason: expect.stringContaining("low on resource"),
		});
		const pulling = {
			spec: { containers: [{ name: "job", image: "nope:1" }] },
			status: {
				phase: "Pending",
				containerStatuses: [{ name: "job", state: { waiting: { reason: "ImagePullBackOff" } } }],
			},
		} as unknown as V1Pod;
		expect(observeKubernetesJob({ status: { active: 1 } }, pulling, { hasStarted: false })).toMatchObject({
			state: "exited",
			reason: expect.stringContaining("ImagePullBackOff"),
		});
	});
});

describe("kubernetes (offline: requests on the wire, answered by a stand-in HTTP endpoint)", () => {
	let server: Server;
	let root: string;
	const calls: Array<{ method: string; url: string; body: string }> = [];
	const created = new Map<string, V1Job>();
	let backend: KubernetesBackend;

	beforeAll(async () => {
		root = mkdtempSync(join(tmpdir(), "orrery-k8s-"));
		server = createServer((req: IncomingMessage, res) => {
			let body = "";
			req.on("data", (d) => {
				body += d;
			});
			req.on("end", () => {
				calls.push({ method: req.method ?? "", url: req.url ?? "", body });
				res.setHeader("Content-Type", "application/json");
				const send = (status: number, value: unknown) => {
					res.statusCode = status;
					res.end(JSON.stringify(value));
				};
				if (req.method === "POST") {
					const j = JSON.parse(body) as V1Job;
					const name = j.metadata?.name as string;
					if (created.has(name)) return send(409, { kind: "Status", code: 409, reason: "AlreadyExists" });
					created.set(name, j);
					return send(201, j);
				}
				if (req.method === "DELETE") return send(200, { kind: "Status", status: "Success" });
				if (req.url?.includes("/pods"))
					return send(200, { kind: "PodList", apiVersion: "v1", metadata: {}, items: [] });
				const items = [...created.values()].map((j) => ({ ...j, ...yamlFixture<V1Job>("job-status-complete.yaml") }));
				return send(200, { kind: "JobList", apiVersion: "batch/v1", metadata: {}, items });
			});
		});
		await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
		const port = (server.address() as { port: number }).port;
		const kc = new KubeConfig();
		kc.loadFromOptions({
			clusters: [{ name: "c", server: `http://127.0.0.1:${port}`, skipTLSVerify: true }],
			users: [{ name: "u", token: "t" }],
			contexts: [{ name: "x", cluster: "c", user: "u" }],
			currentContext: "x",
		});
		backend = new KubernetesBackend({ ...config, workspaceMountPath: root }, kc);
	});
	afterAll(async () => {
		await new Promise((r) => server.close(r));
		rmSync(root, { recursive: true, force: true });
	});

	it("creates one Job per job, idempotently, lists by label selector in two calls, deletes in the background", async () => {
		const jobDir = join(root, "w", ".orrery", "jobs", "00001-s-1");
		mkdirSync(jobDir, { recursive: true });
		const j: BackendJob = { ...job, jobDir, workspace: join(root, "w"), workdir: join(root, "w") };
		const first = await backend.submit(j);
		expect((await backend.submit(j)).ref).toBe(first.ref);
		expect(calls.filter((c) => c.method === "POST")).toHaveLength(2);
		expect(calls[0]?.url).toBe("/apis/batch/v1/namespaces/reana/jobs");
		calls.length = 0;
		const seen = await backend.poll([first.ref]);
		expect(seen.get(first.ref)).toMatchObject({ state: "exited", exitCode: 0 });
		expect(calls.map((c) => decodeURIComponent(c.url)).sort()).toEqual([
			"/api/v1/namespaces/reana/pods?labelSelector=app.kubernetes.io/managed-by=orrery,orrery.io/instance=orrery",
			"/apis/batch/v1/namespaces/reana/jobs?labelSelector=app.kubernetes.io/managed-by=orrery,orrery.io/instance=orrery",
		]);
		calls.length = 0;
		await backend.cancel(first.ref);
		expect(calls[0]?.method).toBe("DELETE");
		expect(calls[0]?.url).toMatch(/\/apis\/batch\/v1\/namespaces\/reana\/jobs\/orrery-3f2a9c1e/);
		expect(`${calls[0]?.url}${calls[0]?.body}`).toContain("Background");
	});

	it("finds a Job whose ref was never recorded by the name derived from the job id, and a never-created one not", async () => {
		const jobDir = join(root, "w2", ".orrery", "jobs", "00001-s-1");
		mkdirSync(jobDir, { recursive: true });
		const j: BackendJob = { ...job, id: "5b7d0c2a", jobDir, workspace: join(root, "w2"), workdir: join(root, "w2") };
		const before = calls.length;
		expect(await backend.find(j)).toBeUndefined(); // no scripts yet: never submitted, and no request sent
		expect(calls.length).toBe(before);
		const { ref } = await backend.submit(j);
		expect(await backend.find(j)).toBe(ref);
		calls.length = 0;
		await backend.cancel((await backend.find(j)) as string);
		expect(calls.map((c) => `${c.method} ${c.url}`)).toEqual([
			expect.stringMatching(/^DELETE \/apis\/batch\/v1\/namespaces\/reana\/jobs\/orrery-5b7d0c2a/),
		]);
	});
});
