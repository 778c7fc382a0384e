import { SlurmBackend } from "../../src/backends/slurm/index.js";
import { describeBackendConformance } from "./backend-conformance.js";
import { slurmEnv } from "./slurm-service.js";

const env = slurmEnv();

// The same one-node Slurm, through slurmrestd (REST v0.0.38, JWT) instead of the command-line tools.
describeBackendConformance("slurm backend via slurmrestd (live, one-node Slurm)", {
	create: () =>
		SlurmBackend.create({
			pollIntervalMs: 1000,
			maxActiveJobs: 1000,
			arrayThreshold: 10,
			maxArraySize: 1000,
			commandTimeoutMs: 60_000,
			transport: "rest",
			staging: "shared",
			rest: {
				url: env.SLURMRESTD_URL as string,
				apiVersion: env.SLURMRESTD_API ?? "v0.0.38",
				user: env.SLURMRESTD_USER ?? "root",
				token: env.SLURMRESTD_TOKEN as string,
			},
		}),
	root: "/tmp",
	queueTimeoutMs: 120_000,
	commandCount: (b) => (b as SlurmBackend).commandsIssued,
	timeLimit: { seconds: 60, graceMs: 90_000 },
	resources: {
		request: { cpus: 2, memoryMiB: 100 },
		// What slurmctld granted (sbatch's own SLURM_* variables are not set for slurmrestd jobs).
		command: `scontrol show job "$SLURM_JOB_ID" | tr ' ' '\\n' | grep -E '^(NumCPUs|MinMemoryNode)=' | sort | tr '\\n' ' '`,
		expected: "MinMemoryNode=100M NumCPUs=2",
	},
});
