import { type Static, Type } from "typebox";

const sshSchema = Type.Object(
	{
		host: Type.String({
			minLength: 1,
			description: "login node (submit host) to run condor_submit/condor_q/condor_rm on",
		}),
		user: Type.Optional(Type.String()),
		port: Type.Optional(Type.Integer({ minimum: 1, maximum: 65535 })),
		identityFile: Type.Optional(Type.String()),
		options: Type.Optional(Type.Array(Type.String())),
	},
	{ additionalProperties: false },
);

const tokenSchema = Type.Object(
	{
		file: Type.Optional(
			Type.String({ description: "BEARER_TOKEN_FILE for every command (on the submit host when `ssh` is set)" }),
		),
		fromJobEnv: Type.Optional(
			Type.String({
				description:
					"name of a job environment variable holding the user's own token (from their secrets); it is written to the job folder and used for that job's condor_submit",
			}),
		),
	},
	{ additionalProperties: false },
);

/** Settings of the HTCondor backend (plain HTCondor pools and Compute4PUNCH). */
export const htcondorConfigSchema = Type.Object(
	{
		flavour: Type.Union([Type.Literal("htcondor"), Type.Literal("compute4punch")], {
			default: "htcondor",
			description: "compute4punch: images go to +SINGULARITY_JOB_CONTAINER, time limits to +MaxRuntime only",
		}),
		schedd: Type.Optional(Type.String({ description: "condor_* -name: the schedd to use" })),
		pool: Type.Optional(Type.String({ description: "condor_* -pool: the central manager" })),
		accountingGroup: Type.Optional(
			Type.String({ description: "default accounting_group; htcondor_accounting_group wins" }),
		),
		requirements: Type.Optional(Type.String({ description: "requirements expression for every job" })),
		extraSubmit: Type.Optional(
			Type.Record(Type.String(), Type.String(), {
				description: "extra submit commands, e.g. {'+Experiment': '\"punch\"'}",
			}),
		),
		containerUniverse: Type.Boolean({
			default: false,
			description: "plain HTCondor: run step images with universe=container (else on the host)",
		}),
		fileTransfer: Type.Union([Type.Literal("shared"), Type.Literal("transfer")], {
			default: "shared",
			description:
				"shared: job folders and workspaces are on a filesystem the execute nodes see; transfer: HTCondor's file transfer carries the workspace (as a tar) to the execute node's scratch directory and the step's changes back",
		}),
		pollIntervalMs: Type.Integer({ minimum: 1000, default: 15_000 }),
		maxActiveJobs: Type.Integer({ minimum: 1, default: 5000 }),
		batchThreshold: Type.Integer({
			minimum: 2,
			default: 10,
			description: "jobs with equal settings submitted as one cluster",
		}),
		commandTimeoutMs: Type.Integer({ minimum: 1000, default: 60_000 }),
		ssh: Type.Optional(sshSchema),
		bearerToken: Type.Optional(tokenSchema),
	},
	{ additionalProperties: false },
);
/** Settings of the HTCondor backend. */
export type HtcondorConfig = Static<typeof htcondorConfigSchema>;
