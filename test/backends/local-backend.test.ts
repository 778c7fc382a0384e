import { LocalBackend } from "../../src/backends/index.js";
import { describeBackendConformance } from "./backend-conformance.js";

// The reference backend: processes on this machine, no container runtime needed.
describeBackendConformance("local backend (conformance)", {
	create: () => LocalBackend.create({ containerRuntime: "none" }),
	queueTimeoutMs: 10_000,
	// The scheduler enforces local time limits by cancelling; the job must be gone soon after.
	timeLimit: { seconds: 2, graceMs: 15_000 },
	// The local backend runs jobs as plain processes and does not limit cpus or memory.
});
