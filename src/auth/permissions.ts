import { AppError } from "../common/index.js";
import type { Principal, Scope } from "./access-tokens.js";

/** Everything a request can ask to do. */
export const actions = {
	/** See a workflow: status, logs, files, specification. */
	"workflow.read": "read",
	/** Create workflows, upload and delete files, delete workflows. */
	"workflow.write": "write",
	/** Start, stop and restart workflows. */
	"workflow.run": "run",
	/** See one's own account. */
	"user.read": "read",
	/** Server administration: users, tokens of others, quotas. */
	admin: "admin",
} as const satisfies Record<string, Scope>;

/** One action a principal may or may not take. */
export type Action = keyof typeof actions;

/** What a permission is checked against: a resource with an owner (absent for actions on no resource). */
export interface Resource {
	ownerId: string;
}

/**
 * The one permission function every route goes through. A principal needs the action's scope on
 * its token, and must own the resource (or be an administrator).
 */
export function can(principal: Principal | null, action: Action, resource?: Resource): boolean {
	if (!principal) return false;
	const needed = actions[action];
	const isAdmin = principal.user.role === "admin" && principal.scopes.includes("admin");
	if (!principal.scopes.includes(needed) && !isAdmin) return false;
	if (action === "admin") return isAdmin;
	if (!resource) return true;
	return resource.ownerId === principal.user.id || isAdmin;
}

/** Throws `unauthenticated` or `forbidden` unless the principal can take the action. */
export function authorize(
	principal: Principal | null,
	action: Action,
	resource?: Resource,
): asserts principal is Principal {
	if (!principal) {
		throw new AppError("unauthenticated", "no access token given; set ORRERY_ACCESS_TOKEN (or pass access_token)");
	}
	if (!can(principal, action, resource)) {
		const needed = actions[action];
		const hasScope = principal.scopes.includes(needed) || principal.scopes.includes("admin");
		throw new AppError(
			"forbidden",
			hasScope
				? `${principal.user.email} is not allowed to ${action.replace(".", " ")} this resource`
				: `this token lacks the '${needed}' scope needed to ${action.replace(".", " ")}`,
		);
	}
}
