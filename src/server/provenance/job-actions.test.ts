import { describe, expect, it } from "vitest";
import { actionStatusOf, containerImageEntity } from "./job-actions.js";

describe("container images in a run's crate", () => {
	it("splits a reference into registry, name and tag, and keeps a pinned digest", () => {
		expect(containerImageEntity("python:3.12")).toMatchObject({
			"@type": "ContainerImage",
			registry: "docker.io",
			name: "python",
			tag: "3.12",
		});
		expect(containerImageEntity("ghcr.io/org/tool:1.0@sha256:abc123")).toMatchObject({
			registry: "ghcr.io",
			name: "org/tool",
			tag: "1.0",
			sha256: "abc123",
		});
		expect(containerImageEntity("localhost:5000/busybox")).toMatchObject({
			registry: "localhost:5000",
			name: "busybox",
		});
		expect(containerImageEntity("docker://reanahub/reana-env-root6:6.18.04")).toMatchObject({
			registry: "docker.io",
			name: "reanahub/reana-env-root6",
			tag: "6.18.04",
		});
	});

	it("says that the digest of a tag is not recorded, and marks Apptainer images", () => {
		expect(String(containerImageEntity("python:3.12").description)).toMatch(/not recorded/);
		expect(containerImageEntity("/images/tool.sif")).toMatchObject({
			additionalType: { "@id": "https://w3id.org/ro/terms/workflow-run#SIFImage" },
			name: "/images/tool.sif",
		});
	});

	it("maps run and job states to schema.org's action statuses", () => {
		expect(actionStatusOf("finished")["@id"]).toBe("http://schema.org/CompletedActionStatus");
		expect(actionStatusOf("failed")["@id"]).toBe("http://schema.org/FailedActionStatus");
		expect(actionStatusOf("stopped")["@id"]).toBe("http://schema.org/FailedActionStatus");
		expect(actionStatusOf("running")["@id"]).toBe("http://schema.org/ActiveActionStatus");
		expect(actionStatusOf("created")["@id"]).toBe("http://schema.org/PotentialActionStatus");
	});
});
