import { type Static, Type } from "typebox";

const volumeSchema = Type.Union(
	[
		Type.Object(
			{
				persistentVolumeClaim: Type.Object(
					{ claimName: Type.String({ minLength: 1 }) },
					{ additionalProperties: false },
				),
			},
			{ additionalProperties: false },
		),
		Type.Object(
			{ hostPath: Type.Object({ path: Type.String({ minLength: 1 }) }, { additionalProperties: false }) },
			{ additionalProperties: false },
		),
	],
	{ description: "the volume holding ORRERY_WORKSPACE_ROOT: a PVC (ReadWriteMany) or a hostPath" },
);

/** Settings of the Kubernetes backend. */
export const kubernetesConfigSchema = Type.Object(
	{
		namespace: Type.String({ default: "default", description: "namespace the Jobs are created in" }),
		kubeconfig: Type.Optional(
			Type.String({ description: "kubeconfig file; default: in-cluster service account, else ~/.kube/config" }),
		),
		context: Type.Optional(Type.String({ description: "kubeconfig context to use" })),
		workspaceVolume: volumeSchema,
		workspaceMountPath: Type.String({
			description: "where the volume is mounted in pods: must equal ORRERY_WORKSPACE_ROOT so paths match",
		}),
		workspaceSubPath: Type.Optional(Type.String({ description: "subPath of the volume that holds the workspaces" })),
		defaultImage: Type.String({
			default: "docker.io/library/ubuntu:24.04",
			description: "image for steps that name none (needs /bin/sh)",
		}),
		runAsUser: Type.Optional(Type.Integer({ minimum: 0, description: "default uid; kubernetes_uid wins" })),
		runAsGroup: Type.Optional(Type.Integer({ minimum: 0 })),
		serviceAccountName: Type.Optional(Type.String()),
		imagePullSecrets: Type.Optional(Type.Array(Type.String())),
		nodeSelector: Type.Optional(Type.Record(Type.String(), Type.String())),
		labels: Type.Optional(Type.Record(Type.String(), Type.String(), { description: "extra labels on Jobs and pods" })),
		instance: Type.String({
			default: "orrery",
			description: "value of the orrery.io/instance label: servers sharing a namespace must differ",
		}),
		ttlSecondsAfterFinished: Type.Integer({ minimum: 0, default: 86_400 }),
		gpuResource: Type.String({ default: "nvidia.com/gpu" }),
		pollIntervalMs: Type.Integer({ minimum: 500, default: 5000 }),
		maxActiveJobs: Type.Integer({ minimum: 1, default: 1000 }),
	},
	{ additionalProperties: false },
);
/** Settings of the Kubernetes backend. */
export type KubernetesConfig = Static<typeof kubernetesConfigSchema>;
