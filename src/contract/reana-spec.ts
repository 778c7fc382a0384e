import { type Static, Type } from "typebox";

/** Compute backends a step may name: REANA's keys and Orrery's own. */
export const computeBackendNames = [
	"local",
	"slurm",
	"htcondor",
	"kubernetes",
	"slurmcern",
	"htcondorcern",
	"compute4punch",
] as const;

const StringList = Type.Array(Type.String(), { maxItems: 1000 });

const Sha256 = Type.String({ pattern: "^[0-9a-fA-F]{64}$", description: "the SHA-256 of the file, 64 hex digits" });
const Endpoint = Type.String({
	minLength: 1,
	description: "an S3 endpoint: the name of one the server configures, or its https:// URL",
});

/**
 * One remote input staged into the workspace before the first job (Orrery extension): an object
 * (`s3://bucket/key`, `https://host/file`) or, with a trailing `/`, a prefix or WebDAV directory.
 */
export const RemoteInput = Type.Object(
	{
		url: Type.String({ minLength: 1 }),
		path: Type.Optional(
			Type.String({ minLength: 1, description: "where in the workspace; default: the URL's last name" }),
		),
		sha256: Type.Optional(Sha256),
		endpoint: Type.Optional(Endpoint),
		path_style: Type.Optional(Type.Boolean()),
		region: Type.Optional(Type.String({ minLength: 1 })),
	},
	{ additionalProperties: false },
);
/** One remote input of `inputs.remote`. */
export type RemoteInput = Static<typeof RemoteInput>;

/** Where the declared outputs are published after a successful run (Orrery extension). */
export const PublishTarget = Type.Object(
	{
		url: Type.String({ minLength: 1, description: "s3://bucket/prefix/ or a WebDAV folder (davs://, https://)" }),
		endpoint: Type.Optional(Endpoint),
		path_style: Type.Optional(Type.Boolean()),
		region: Type.Optional(Type.String({ minLength: 1 })),
	},
	{ additionalProperties: false },
);
/** One destination of `outputs.publish`. */
export type PublishTarget = Static<typeof PublishTarget>;

/** One step of a serial workflow, with REANA's keys. Unknown keys are reported as warnings, not errors. */
export const SerialStep = Type.Object({
	name: Type.Optional(Type.String()),
	environment: Type.Optional(Type.String({ minLength: 1 })),
	commands: Type.Array(Type.String(), { minItems: 1 }),
	compute_backend: Type.Optional(Type.String()),
	kerberos: Type.Optional(Type.Boolean()),
	voms_proxy: Type.Optional(Type.Boolean()),
	rucio: Type.Optional(Type.Boolean()),
	unpacked_img: Type.Optional(Type.Boolean()),
	kubernetes_uid: Type.Optional(Type.Integer()),
	kubernetes_memory_limit: Type.Optional(Type.String()),
	kubernetes_cpu_request: Type.Optional(Type.String()),
	kubernetes_cpu_limit: Type.Optional(Type.String()),
	kubernetes_job_timeout: Type.Optional(Type.Integer({ minimum: 1 })),
	htcondor_max_runtime: Type.Optional(Type.String()),
	htcondor_accounting_group: Type.Optional(Type.String()),
	slurm_partition: Type.Optional(Type.String()),
	slurm_time: Type.Optional(Type.String()),
	retries: Type.Optional(Type.Integer({ minimum: 0, maximum: 10 })),
});
/** One step of a serial workflow. */
export type SerialStep = Static<typeof SerialStep>;

/** The `workflow.specification` of a serial workflow. */
export const SerialSpecification = Type.Object({
	steps: Type.Array(SerialStep, { minItems: 1 }),
});
/** The `workflow.specification` of a serial workflow. */
export type SerialSpecification = Static<typeof SerialSpecification>;

/** The analysis specification of reana.yaml, as REANA's schema defines it (plus documented extensions). */
export const ReanaSpecification = Type.Object(
	{
		version: Type.Optional(Type.String()),
		inputs: Type.Optional(
			Type.Object(
				{
					files: Type.Optional(StringList),
					directories: Type.Optional(StringList),
					parameters: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
					options: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
					remote: Type.Optional(Type.Array(RemoteInput, { maxItems: 10000 })),
				},
				{ additionalProperties: false },
			),
		),
		workflow: Type.Object(
			{
				type: Type.Union([
					Type.Literal("serial"),
					Type.Literal("cwl"),
					Type.Literal("snakemake"),
					Type.Literal("yadage"),
				]),
				file: Type.Optional(Type.String({ minLength: 1 })),
				specification: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
				files: Type.Optional(StringList),
				directories: Type.Optional(StringList),
				parameters: Type.Optional(Type.Object({ file: Type.String() }, { additionalProperties: false })),
				resources: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
			},
			{ additionalProperties: false },
		),
		outputs: Type.Optional(
			Type.Object(
				{
					files: Type.Optional(Type.Array(Type.String())),
					directories: Type.Optional(Type.Array(Type.String())),
					publish: Type.Optional(Type.Array(PublishTarget, { minItems: 1, maxItems: 10 })),
				},
				{ additionalProperties: false },
			),
		),
		tests: Type.Optional(
			Type.Object({ files: Type.Optional(Type.Array(Type.String())) }, { additionalProperties: false }),
		),
		workspace: Type.Optional(
			Type.Object(
				{
					root_path: Type.Optional(Type.String()),
					retention_days: Type.Optional(
						Type.Record(Type.String(), Type.Integer({ minimum: 1, maximum: 3650 }), { minProperties: 1 }),
					),
				},
				{ additionalProperties: false },
			),
		),
	},
	{ additionalProperties: false },
);
/** The analysis specification of reana.yaml. */
export type ReanaSpecification = Static<typeof ReanaSpecification>;
