export {
	type DatabaseConfig,
	type Db,
	isPostgresUrl,
	isUniqueViolation,
	openDatabase,
	uniquely,
} from "./connection.js";
export { appendEvents, type EventRow, listEvents, type NewEvent } from "./events.js";
export { activeJobStatuses, findJob, insertJob, type JobRow, listJobs, listJobsPage, updateJob } from "./jobs.js";
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
	type WorkflowStatus,
	workflowStatuses,
} from "./schema.js";
export { deleteSecretRows, listSecretRows, type SecretRow, upsertSecretRows } from "./secrets.js";
export {
	findToken,
	findTokenByHash,
	insertToken,
	listTokens,
	revokeToken,
	type TokenRow,
	touchToken,
} from "./tokens.js";
export { findUserByEmail, findUserById, insertUser, listUsers, type UserRow } from "./users.js";
export {
	activeWorkflowStatuses,
	claimWorkflows,
	findWorkflowById,
	findWorkflowByName,
	insertWorkflowRun,
	listWorkflows,
	releaseLease,
	transitionWorkflow,
	updateWorkflow,
	type WorkflowListRow,
	type WorkflowQuery,
	type WorkflowRow,
} from "./workflows.js";
