import { type Static, Type } from "typebox";

const sshSchema = Type.Object(
	{
		host: Type.String({ minLength: 1, description: "login node to run sbatch/squeue/scancel on" }),
		user: Type.Optional(Type.String()),
		port: Type.Optional(Type.Integer({ minimum: 1, maximum: 65535 })),
		identityFile: Type.Optional(Type.String({ description: "private key (the server's, not a user's)" })),
		options: Type.Optional(Type.Array(Type.String(), { description: "extra ssh -o options" })),
	},
	{ additionalProperties: false },
);

const containerSchema = Type.Object(
	{
		runtime: Type.Union([Type.Literal("apptainer"), Type.Literal("singularity")], { default: "apptainer" }),
		binary: Type.Optional(Type.String({ description: "path of the apptainer/singularity binary on the nodes" })),
		binds: Type.Optional(Type.Array(Type.String(), { description: "extra --bind specs (e.g. /cvmfs)" })),
		args: Type.Optional(Type.Array(Type.String(), { description: "extra arguments of `exec` (e.g. --cleanenv)" })),
		unpackedRoot: Type.Optional(
			Type.String({ description: "root of unpacked images for REANA's unpacked_img (e.g. /cvmfs/unpacked.cern.ch)" }),
		),
	},
	{ additionalProperties: false },
);

const restSchema = Type.Object(
	{
		url: Type.String({ description: "slurmrestd base URL, e.g. http://slurm-rest:6820" }),
		apiVersion: Type.String({ default: "v0.0.38" }),
		user: Type.String({ description: "X-SLURM-USER-NAME" }),
		token: Type.Optional(Type.String({ description: "X-SLURM-USER-TOKEN (a JWT)" })),
		tokenFile: Type.Optional(Type.String({ description: "file holding the JWT, re-read on every call (rotation)" })),
	},
	{ additionalProperties: false },
);

/** Settings of the Slurm backend. */
export const slurmConfigSchema = Type.Object(
	{
		partition: Type.Optional(Type.String({ description: "default partition; a step's slurm_partition wins" })),
		account: Type.Optional(Type.String({ description: "sbatch --account" })),
		qos: Type.Optional(Type.String({ description: "sbatch --qos" })),
		extraArgs: Type.Optional(Type.Array(Type.String(), { description: "extra sbatch arguments for every job" })),
		pollIntervalMs: Type.Integer({
			minimum: 1000,
			default: 10_000,
			description: "least time between two squeue calls",
		}),
		maxActiveJobs: Type.Integer({ minimum: 1, default: 5000, description: "Orrery jobs submitted at once" }),
		arrayThreshold: Type.Integer({
			minimum: 2,
			default: 10,
			description: "a batch of at least this many jobs with equal settings becomes one job array",
		}),
		maxArraySize: Type.Integer({ minimum: 1, default: 1000, description: "tasks per array (below MaxArraySize)" }),
		commandTimeoutMs: Type.Integer({ minimum: 1000, default: 60_000 }),
		transport: Type.Union([Type.Literal("cli"), Type.Literal("rest")], {
			default: "cli",
			description: "cli: sbatch/squeue/sacct/scancel; rest: slurmrestd (set `rest`)",
		}),
		rest: Type.Optional(restSchema),
		ssh: Type.Optional(sshSchema),
		staging: Type.Union([Type.Literal("shared"), Type.Literal("ssh")], {
			default: "shared",
			description: "shared: workspaces are on a filesystem all nodes see; ssh: copy in and out with rsync over `ssh`",
		}),
		remoteWorkspaceRoot: Type.Optional(
			Type.String({ description: "staging=ssh: where workspaces are mirrored on the cluster" }),
		),
		container: Type.Optional(containerSchema),
	},
	{ additionalProperties: false },
);
/** Settings of the Slurm backend. */
export type SlurmConfig = Static<typeof slurmConfigSchema>;
/** Container settings of the Slurm backend. */
export type SlurmContainerConfig = Static<typeof containerSchema>;
/** slurmrestd settings. */
export type SlurmRestConfig = Static<typeof restSchema>;
