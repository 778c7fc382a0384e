export {
	authenticateToken,
	generateTokenValue,
	hashToken,
	type IssueTokenOptions,
	issueToken,
	type Principal,
	type Scope,
	tokenPrefix,
	tokenScopes,
} from "./access-tokens.js";
export { type Action, actions, authorize, can, type Resource } from "./permissions.js";
export { createUser, ensureUser } from "./users.js";
