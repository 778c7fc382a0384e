// The runtime entrance of the contract: TypeBox schemas for validation, serialisation and OpenAPI.
export * from "./api-schemas.js";
export * from "./provenance-schemas.js";
export * from "./reana-schemas.js";
export { computeBackendNames, ReanaSpecification, SerialSpecification, SerialStep } from "./reana-spec.js";
export { type RouteContract, type RoutePermission, routePermissions, routes } from "./routes.js";
export * from "./transfer-schemas.js";
