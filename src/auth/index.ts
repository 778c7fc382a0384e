export {
	authenticateToken,
	type CredentialKind,
	generateTokenValue,
	hashToken,
	type IssueTokenOptions,
	issueToken,
	type Principal,
	type Scope,
	tokenPrefix,
	tokenScopes,
	visiblePrefix,
} from "./access-tokens.js";
export { type AuditEntry, type AuditEventType, auditEventTypes, recordAudit } from "./audit-log.js";
export { AuthFailureLimiter, type AuthFailureLimits } from "./auth-failure-limiter.js";
export { looksLikeJwt } from "./jwt-verifier.js";
export { type DeviceAuthorization, OidcProvider, randomSecret, type TokenResponse } from "./oidc-provider.js";
export {
	type Action,
	actions,
	authorize,
	can,
	type Resource,
	type ShareGrant,
	shareGrants,
} from "./permissions.js";
export {
	type CreateTokenInput,
	checkRequestedScopes,
	createPersonalToken,
	revokeTokenFor,
	tokenExpiry,
	tokenListingScope,
	tokenStatus,
} from "./personal-tokens.js";
export {
	authenticateProviderToken,
	groupsFromClaims,
	loginWithClaims,
	type ProviderLogin,
	personScopes,
} from "./provider-login.js";
export { createUser, ensureUser } from "./users.js";
export { authenticateWebSession, createWebSession, isSessionValue, sessionPrefix } from "./web-sessions.js";
export {
	grantsOf,
	parseValidUntil,
	type ShareInput,
	type ShareTargetInput,
	shareWorkflow,
	targetLabel,
	unshareWorkflow,
} from "./workflow-shares.js";
