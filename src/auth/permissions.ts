import { AppError } from "../common/index.js";
import type { SharePermission } from "../db/index.js";
import type { Principal, Scope } from "./access-tokens.js";

/** Everything a request can ask to do, and the token scope each needs. */
export const actions = {
	/** See a workflow: status, logs, files, specification. */
	"workflow.read": "read",
	/** Create workflows, upload and delete files, delete workflows. */
	"workflow.write": "write",
	/** Start, stop and restart workflows. */
	"workflow.run": "run",
	/** Share a workflow, stop sharing it, see whom it is shared with (owner and admins only; shares never pass it on). */
	"workflow.share": "write",
	/** See one's own account, tokens and shares. */
	"user.read": "read",
	/** Change one's own account: create and revoke one's tokens. */
	"user.write": "write",
	/** Server administration: users, tokens of others, quotas, the audit log. */
	admin: "admin",
} as const satisfies Record<string, Scope>;

/** One action a principal may or may not take. */
export type Action = keyof typeof actions;

/** The actions each share permission grants on the shared workflow. */
export const shareGrants: Record<SharePermission, readonly Action[]> = {
	read: ["workflow.read"],
	run: ["workflow.read", "workflow.run"],
};

/** A share of a resource, as the permission function sees it. */
export interface ShareGrant {
	permission: SharePermission;
	targetUserId: string | null;
	targetGroupId: string | null;
	/** ISO time after which the share no longer counts, or null. */
	expiresAt: string | null;
}

/** What a permission is checked against: a resource with an owner, and the shares of it (absent for no resource). */
export interface Resource {
	ownerId: string;
	/** Every share of the resource; `can` picks the live ones that reach the principal. */
	shares?: readonly ShareGrant[];
}

function isAdmin(principal: Principal): boolean {
	return principal.user.role === "admin" && principal.scopes.includes("admin");
}

function reaches(share: ShareGrant, principal: Principal): boolean {
	if (share.targetUserId !== null) return share.targetUserId === principal.user.id;
	return share.targetGroupId !== null && principal.groupIds.includes(share.targetGroupId);
}

function isLive(share: ShareGrant, now: Date): boolean {
	return share.expiresAt === null || Date.parse(share.expiresAt) > now.getTime();
}

/**
 * The one permission function every route goes through. A principal needs the action's scope on its
 * credential, and then owns the resource, is an administrator (with the `admin` scope), or is reached by
 * a live share (directly or through a group) whose permission grants the action.
 */
export function can(principal: Principal | null, action: Action, resource?: Resource, now: Date = new Date()): boolean {
	if (!principal) return false;
	const needed = actions[action];
	if (!principal.scopes.includes(needed) && !isAdmin(principal)) return false;
	if (action === "admin") return isAdmin(principal);
	if (!resource) return true;
	if (resource.ownerId === principal.user.id || isAdmin(principal)) return true;
	return (resource.shares ?? []).some(
		(s) => reaches(s, principal) && isLive(s, now) && shareGrants[s.permission].includes(action),
	);
}

/** Throws `unauthenticated` or `forbidden` (with the reason) unless the principal can take the action. */
export function authorize(
	principal: Principal | null,
	action: Action,
	resource?: Resource,
	now: Date = new Date(),
): asserts principal is Principal {
	if (!principal) {
		throw new AppError("unauthenticated", "no access token given; set ORRERY_ACCESS_TOKEN (or pass access_token)");
	}
	if (can(principal, action, resource, now)) return;
	const needed = actions[action];
	const what = action.replace(".", " ");
	if (!principal.scopes.includes(needed) && !principal.scopes.includes("admin")) {
		throw new AppError("forbidden", `this token lacks the '${needed}' scope needed to ${what}`);
	}
	throw new AppError("forbidden", denialReason(principal, action, resource, now));
}

function denialReason(principal: Principal, action: Action, resource: Resource | undefined, now: Date): string {
	const who = principal.user.email;
	if (action === "admin" || !resource)
		return `${who} is not allowed to ${action.replace(".", " ")}: administrators only`;
	const mine = (resource.shares ?? []).filter((s) => reaches(s, principal));
	const live = mine.filter((s) => isLive(s, now));
	if (mine.length > 0 && live.length === 0) {
		const last = mine
			.map((s) => s.expiresAt ?? "")
			.sort()
			.at(-1);
		return `${who}'s access to this workflow expired at ${last}; ask its owner to share it again`;
	}
	if (live.length > 0) {
		const best = live.some((s) => s.permission === "run") ? "run" : "read";
		const verb = action === "workflow.run" ? "run" : action === "workflow.share" ? "share" : "change";
		return `this workflow is shared with ${who} for '${best}' only, which does not allow to ${verb} it; only its owner can`;
	}
	return `${who} is not allowed to ${action.replace("workflow.", "")} this workflow: it belongs to another user and is not shared with you`;
}
