export {
	type AuditEventRow,
	type AuditQuery,
	appendAuditEvent,
	listAuditEvents,
	type NewAuditEvent,
} from "./audit-events.js";
export {
	type DatabaseConfig,
	type Db,
	isPostgresUrl,
	isUniqueViolation,
	openDatabase,
	transientDatabaseError,
	uniquely,
} from "./connection.js";
export { appendEvents, type EventRow, listEvents, type NewEvent } from "./events.js";
export {
	ensureGroups,
	findGroupByName,
	type GroupRow,
	listGroupIdsOfUser,
	listGroupsOfUser,
	replaceMemberships,
} from "./groups.js";
export {
	findUserByIdentity,
	type IdentityRow,
	insertIdentity,
	touchIdentity,
	updateUserProfile,
} from "./identities.js";
export {
	claimInteractiveSession,
	findInteractiveSession,
	findInteractiveSessionById,
	type InteractiveSessionRow,
	interactiveSessionsOf,
	liveInteractiveSessions,
	updateInteractiveSession,
} from "./interactive-sessions.js";
export {
	type CacheCandidate,
	deleteCacheEntry,
	findCacheEntries,
	findCacheEntry,
	insertCacheEntry,
	type JobCacheRow,
	markJobReuse,
	pruneCacheEntries,
} from "./job-cache.js";
export {
	activeJobStatuses,
	findJob,
	insertJob,
	insertJobs,
	type JobRow,
	type JobUpdate,
	listJobs,
	listJobsByIds,
	listJobsPage,
	updateJob,
	updateJobsWithEvents,
	updateJobWithEvents,
} from "./jobs.js";
export { renewLease, transitionLeasedWorkflow } from "./leases.js";
export { type DialectName, migrateToLatest } from "./migrations.js";
export { listQuotas, type QuotaRow, setQuotaLimit, setQuotaUsage } from "./quotas.js";
export {
	activateRetentionRules,
	dueRetentionRules,
	insertRetentionRules,
	listRetentionRules,
	markRetentionRule,
	type RetentionRuleRow,
} from "./retention-rules.js";
export {
	type Database,
	type JobStatus,
	jobStatuses,
	type QuotaResource,
	quotaResources,
	type SharePermission,
	sharePermissions,
	type WorkflowStatus,
	workflowStatuses,
} from "./schema.js";
export { deleteSecretRows, listSecretRows, type SecretRow, upsertSecretRows } from "./secrets.js";
export {
	findSessionByHash,
	findSessionById,
	insertSession,
	revokeSession,
	type SessionRow,
	touchSession,
} from "./sessions.js";
export { type AccessibleWorkflowQuery, listAccessibleWorkflows } from "./shared-workflows.js";
export {
	deleteShare,
	findShare,
	insertShare,
	listSharesByOwner,
	listSharesOfRun,
	listSharesOfRuns,
	listSharesReaching,
	nameScopeKey,
	runScopeKey,
	type ShareRow,
	type ShareView,
	targetKey,
} from "./shares.js";
export { listTokensWithOwners, type TokenWithOwner } from "./token-listing.js";
export {
	findToken,
	findTokenByHash,
	insertToken,
	listTokens,
	revokeToken,
	type TokenRow,
	touchToken,
} from "./tokens.js";
export { insertTransfers, listTransfers, type TransferRow, updateTransfers } from "./transfers.js";
export { findUserByEmail, findUserById, insertUser, listUsers, type UserRow } from "./users.js";
export {
	activeWorkflowStatuses,
	claimWorkflows,
	findWorkflowById,
	findWorkflowByName,
	insertRestartRun,
	insertWorkflowRun,
	listLeasedWorkflows,
	listWorkflows,
	releaseLease,
	transitionWorkflow,
	updateWorkflow,
	type WorkflowListRow,
	type WorkflowQuery,
	type WorkflowRow,
} from "./workflows.js";
