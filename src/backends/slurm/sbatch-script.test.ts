import { describe, expect, it } from "vitest";
import { CommandRunner } from "../command-runner.js";
import type { BackendJob } from "../compute-backend.js";
import { wrapperScript } from "../job-folder.js";
import {
	arrayBatchScript,
	batchScript,
	containerPlacement,
	formatSlurmTime,
	imageReference,
	sbatchArgs,
	slurmJobSpec,
} from "./sbatch-script.js";
import type { SlurmConfig } from "./slurm-config.js";
import { SshStaging } from "./ssh-staging.js";

const config: SlurmConfig = {
	pollIntervalMs: 10_000,
	maxActiveJobs: 10,
	arrayThreshold: 10,
	maxArraySize: 1000,
	commandTimeoutMs: 60_000,
	transport: "cli",
	staging: "shared",
	partition: "debug",
	account: "punch",
};
const job: BackendJob = {
	id: "0b5d",
	jobDir: "/ws/w1/.orrery/jobs/00001-fit-1",
	workspace: "/ws/w1",
	workdir: "/ws/w1/code",
	command: "python fit.py",
	image: "reanahub/reana-env-root6:6.18.04",
	env: {},
	resources: { cpus: 4, memoryMiB: 2048, gpus: 1, timeLimitSeconds: 5400 },
	options: { slurm_partition: "gpu" },
};

describe("sbatch requests", () => {
	it("turns resources and REANA's slurm_* keys into sbatch flags", () => {
		const args = sbatchArgs(slurmJobSpec(job, config));
		expect(args).toEqual([
			"sbatch",
			"--parsable",
			"--job-name=orrery-0b5d",
			"--chdir=/ws/w1/.orrery/jobs/00001-fit-1",
			"--output=/ws/w1/.orrery/jobs/00001-fit-1/slurm.out",
			"--open-mode=append",
			"--no-requeue",
			"--partition=gpu",
			"--account=punch",
			"--time=01:30:00",
			"--ntasks=1",
			"--cpus-per-task=4",
			"--mem=2048M",
			"--gres=gpu:1",
		]);
	});

	it("passes slurm_time through as written (Slurm's own formats)", () => {
		expect(sbatchArgs(slurmJobSpec({ ...job, options: { slurm_time: "2-00:00" } }, config))).toContain(
			"--time=2-00:00",
		);
		expect(formatSlurmTime(90061)).toBe("1-01:01:01");
	});

	it("starts the wrapper from the batch script, and array task N from line N of the list", () => {
		expect(batchScript(job.jobDir)).toContain("exec /bin/sh '/ws/w1/.orrery/jobs/00001-fit-1/run.sh'");
		const script = arrayBatchScript("/ws/w1/.orrery/jobs/00001-fit-1/array.list");
		expect(script).toContain('sed -n "${SLURM_ARRAY_TASK_ID}p"');
		expect(script).toContain('exec /bin/sh "$dir/run.sh"');
	});
});

describe("Apptainer launch (generated script; Apptainer cannot run here)", () => {
	it("runs command.sh with apptainer exec, the workspace bound at the same path", () => {
		const placement = containerPlacement(job, { runtime: "apptainer", binds: ["/cvmfs"] });
		expect(placement.imageUsed).toBe(true);
		const script = wrapperScript(job.jobDir, {
			workdir: job.workdir,
			...(placement.launch ? { launch: placement.launch } : {}),
		});
		expect(script).toContain(
			"'apptainer' 'exec' '--bind' '/ws/w1:/ws/w1' '--bind' '/cvmfs' '--pwd' '/ws/w1/code' '--nv' 'docker://reanahub/reana-env-root6:6.18.04' 'sh' '/ws/w1/.orrery/jobs/00001-fit-1/command.sh'",
		);
	});

	it("binds the job's secrets where REANA shows them", () => {
		const withSecrets = { ...job, secrets: { env: {}, files: { k: Buffer.from("v") } } };
		expect(containerPlacement(withSecrets, { runtime: "apptainer" }).launch).toContain(
			"/ws/w1/.orrery/jobs/00001-fit-1/secrets:/etc/reana/secrets:ro",
		);
	});

	it("uses singularity when configured, and REANA's unpacked_img under the unpacked root", () => {
		const c = { runtime: "singularity" as const, unpackedRoot: "/cvmfs/unpacked.cern.ch" };
		expect(imageReference("reanahub/reana-env-root6:6.18.04", { unpacked_img: true }, c)).toBe(
			"/cvmfs/unpacked.cern.ch/registry.hub.docker.com/reanahub/reana-env-root6:6.18.04",
		);
		expect(imageReference("python", { unpacked_img: true }, c)).toBe(
			"/cvmfs/unpacked.cern.ch/registry.hub.docker.com/library/python:latest",
		);
		expect(containerPlacement(job, c).launch?.[0]).toBe("singularity");
	});

	it("runs on the host, and says so, when the site has no container runtime", () => {
		expect(containerPlacement(job, undefined)).toMatchObject({
			imageUsed: false,
			note: expect.stringMatching(/ran on the host/),
		});
	});
});

describe("SSH staging (generated commands; no SSH server here)", () => {
	const staging = new SshStaging(
		{ host: "login.cluster.example", user: "orrery", port: 2222, identityFile: "/etc/orrery/id_ed25519" },
		"/scratch/orrery",
		new CommandRunner(),
	);

	it("mirrors a workspace under the remote root at the same absolute path", () => {
		expect(staging.remotePath("/ws/w1")).toBe("/scratch/orrery/ws/w1");
		expect(staging.stageInCommands("/ws/w1")).toEqual([
			[
				"ssh",
				"-o",
				"BatchMode=yes",
				"-p",
				"2222",
				"-i",
				"/etc/orrery/id_ed25519",
				"orrery@login.cluster.example",
				"--",
				"mkdir -p '/scratch/orrery/ws/w1'",
			],
			[
				"rsync",
				"-a",
				"--update",
				"--rsh=ssh -o BatchMode=yes -p 2222 -i /etc/orrery/id_ed25519",
				"/ws/w1/",
				"orrery@login.cluster.example:/scratch/orrery/ws/w1/",
			],
		]);
		expect(staging.stageOutCommand("/ws/w1")).toEqual([
			"rsync",
			"-a",
			"--update",
			"--rsh=ssh -o BatchMode=yes -p 2222 -i /etc/orrery/id_ed25519",
			"orrery@login.cluster.example:/scratch/orrery/ws/w1/",
			"/ws/w1/",
		]);
	});

	it("runs scheduler commands on the login node, quoted for its shell", () => {
		const runner = new CommandRunner({ ssh: { host: "login.cluster.example" } });
		expect(runner.argv(["squeue", "--format=%i|%T", "--jobs=1,2"])).toEqual([
			"ssh",
			"-o",
			"BatchMode=yes",
			"login.cluster.example",
			"--",
			"'squeue' '--format=%i|%T' '--jobs=1,2'",
		]);
	});
});
