import { type Static, Type } from "typebox";
import { Size } from "./api-schemas.js";

// Schemas of the REANA endpoints beyond the foundation: secrets, quotas, workspace operations,
// retention rules, diff, parameters, cluster status. Shapes follow reana-server's OpenAPI document.

const Nullable = <T extends ReturnType<typeof Type.String>>(t: T) => Type.Union([t, Type.Null()]);

/** How a secret reaches jobs. */
export const SecretType = Type.Union([Type.Literal("env"), Type.Literal("file")]);

/** GET /api/secrets: names and types, never values. */
export const SecretsList = Type.Array(Type.Object({ name: Type.String(), type: SecretType }));

/** POST /api/secrets/ body: name → {value (base64), type}. */
export const AddSecretsBody = Type.Record(Type.String(), Type.Object({ value: Type.String(), type: SecretType }));

/** POST /api/secrets/ query. */
export const AddSecretsQuery = Type.Object({ overwrite: Type.Optional(Type.Boolean()) });

/** DELETE /api/secrets/ body and answer: secret names. */
export const SecretNames = Type.Array(Type.String());

/** One resource in the quota report of GET /api/you. */
export const QuotaResourceReport = Type.Object({
	usage: Size,
	limit: Size,
	health: Type.String(),
});

/** The quota report of GET /api/you. */
export const QuotaReport = Type.Object({ cpu: QuotaResourceReport, disk: QuotaResourceReport });

/** GET /api/quota (management) query. */
export const QuotaQuery = Type.Object({
	user_id: Type.Optional(Type.String()),
	email: Type.Optional(Type.String()),
	user_access_token: Type.Optional(Type.String()),
	resource_type: Type.String(),
});

/** POST /api/quota (management) body. */
export const SetQuotaBody = Type.Object({
	user_id: Type.Optional(Type.String()),
	email: Type.Optional(Type.String()),
	resource_type: Type.String(),
	limit: Type.Integer({ minimum: 0 }),
});

/** PATCH /api/quota (management) body: recompute usage, optionally also set the limit. */
export const PatchQuotaBody = Type.Object({
	user_id: Type.Optional(Type.String()),
	email: Type.Optional(Type.String()),
	resource_type: Type.Optional(Type.String()),
	limit: Type.Optional(Type.Integer({ minimum: 0 })),
});

/** The quota management answers. */
export const QuotaResponse = Type.Object({ message: Type.String(), usage: Type.Number(), limit: Type.Number() });

/** GET /api/workflows/{w}/disk_usage query (REANA's clients send these as a JSON body on GET; both work). */
export const DiskUsageQuery = Type.Object({
	summarize: Type.Optional(Type.Boolean()),
	search: Type.Optional(Type.String()),
});

/** GET /api/workflows/{w}/disk_usage */
export const DiskUsageResponse = Type.Object({
	workflow_id: Type.String(),
	workflow_name: Type.String(),
	user: Type.String(),
	disk_usage_info: Type.Array(Type.Object({ name: Type.String(), size: Size })),
});

/** PUT /api/workflows/move_files/{w} query. */
export const MoveFilesQuery = Type.Object({
	source: Type.String({ minLength: 1 }),
	target: Type.String({ minLength: 1 }),
});

/** Answers that name the run: mv, prune. */
export const WorkflowMessage = Type.Object({
	message: Type.String(),
	workflow_id: Type.String(),
	workflow_name: Type.String(),
});

/** POST /api/workflows/{w}/prune query. */
export const PruneQuery = Type.Object({
	include_inputs: Type.Optional(Type.Boolean()),
	include_outputs: Type.Optional(Type.Boolean()),
});

/** GET /api/workflows/{w}/retention_rules */
export const RetentionRulesResponse = Type.Object({
	workflow_id: Type.String(),
	workflow_name: Type.String(),
	retention_rules: Type.Array(
		Type.Object({
			id: Type.String(),
			workspace_files: Type.String(),
			retention_days: Type.Integer(),
			apply_on: Nullable(Type.String()),
			status: Type.String(),
		}),
	),
});

/** GET /api/workflows/{a}/diff/{b} params. */
export const DiffParams = Type.Object({ workflow_id_or_name_a: Type.String(), workflow_id_or_name_b: Type.String() });

/** GET /api/workflows/{a}/diff/{b} query. */
export const DiffQuery = Type.Object({
	brief: Type.Optional(Type.Boolean()),
	context_lines: Type.Optional(Type.String({ pattern: "^\\d+$" })),
});

/** GET /api/workflows/{a}/diff/{b}: both fields are JSON-encoded strings, as REANA sends them. */
export const DiffResponse = Type.Object({ reana_specification: Type.String(), workspace_listing: Type.String() });

/** GET /api/workflows/{w}/parameters */
export const ParametersResponse = Type.Object({
	id: Type.String(),
	name: Type.String(),
	type: Type.String(),
	parameters: Type.Record(Type.String(), Type.Unknown()),
});

const N = Type.Number();

/** GET /api/status: how busy the server is. */
export const ClusterStatusResponse = Type.Object({
	workflow: Type.Object({
		queued: N,
		pending: N,
		running: N,
		total: N,
		available: N,
		percentage: N,
		sort: N,
		health: Type.String(),
	}),
	job: Type.Object({ pending: N, running: N, total: N, available: N, percentage: N, sort: N, health: Type.String() }),
	session: Type.Object({ active: N, sort: N }),
});
/** GET /api/status */
export type ClusterStatusResponse = Static<typeof ClusterStatusResponse>;

/** GET /api/config: settings a client may adapt to. */
export const ConfigResponse = Type.Record(Type.String(), Type.Unknown());

/** An interactive session type in a path. */
export const SessionParams = Type.Object({
	workflow_id_or_name: Type.String(),
	interactive_session_type: Type.String(),
});

/** POST /api/workflows/{w}/open/{type} body (REANA's `interactive_session_configuration`). */
export const SessionConfiguration = Type.Object(
	{ image: Type.Optional(Type.Union([Type.String(), Type.Null()])) },
	{ additionalProperties: true },
);

/** POST /api/workflows/{w}/open/{type}: the session's path on the server (REANA's clients add `?token=`). */
export const SessionOpened = Type.Object({
	path: Type.String(),
	jupyter_url: Type.Optional(
		Type.String({
			description:
				"Orrery extension, from a CLI command's embedded server only: the session's Jupyter server itself, with its token",
		}),
	),
});
