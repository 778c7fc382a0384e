// The light entrance of the contract: codes, endpoints and types, no runtime schemas (the CLI loads
// this at start-up, and TypeBox alone takes 150 ms to load). Runtime schemas: `contract/schemas.js`.
export type * from "./api-schemas.js";
export { endpoints, type OperationId } from "./endpoints.js";
export { codeForStatus, type ErrorCode, errorCodes, errorTable, usageExitCode } from "./errors.js";
export type * from "./provenance-schemas.js";
export type * from "./reana-schemas.js";
export type {
	PublishTarget,
	ReanaSpecification,
	RemoteInput,
	SerialSpecification,
	SerialStep,
} from "./reana-spec.js";
export { parseApiTime, toReanaTime, toReanaTimeOrNull } from "./reana-time.js";
export { type RemoteUrlScheme, remoteUrlSchemes } from "./remote-urls.js";
export type { RouteContract, routes } from "./routes.js";
export { endedRunStatuses, type JobStatus, jobStatuses, type WorkflowStatus, workflowStatuses } from "./states.js";
export type * from "./transfer-schemas.js";

/** The version of Orrery's API and of REANA's it speaks. */
export const apiVersion = { orrery: "0.1.0", reana: "0.9.6" } as const;
