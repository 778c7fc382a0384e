import type { KubernetesConfig } from "../../src/backends/kubernetes/index.js";

/** A Kubernetes backend's settings as a site would write them (the volume mounted where the server keeps workspaces). */
export const kubernetesTestConfig: KubernetesConfig = {
	namespace: "reana",
	workspaceVolume: { persistentVolumeClaim: { claimName: "orrery-shared" } },
	workspaceMountPath: "/var/lib/orrery/workspaces",
	defaultImage: "docker.io/library/ubuntu:24.04",
	instance: "orrery",
	ttlSecondsAfterFinished: 3600,
	gpuResource: "nvidia.com/gpu",
	pollIntervalMs: 5000,
	maxActiveJobs: 100,
};
