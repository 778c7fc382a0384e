import { AppError, type Clock, isoNow, newId } from "../common/index.js";
import {
	type Db,
	deleteShare,
	findGroupByName,
	findShare,
	findUserByEmail,
	insertShare,
	nameScopeKey,
	runScopeKey,
	type SharePermission,
	type ShareRow,
	type ShareView,
	sharePermissions,
	targetKey,
	type WorkflowRow,
} from "../db/index.js";
import type { Principal } from "./access-tokens.js";
import type { ShareGrant } from "./permissions.js";

/** Whom to share with: a user by email, or a group by name (exactly one). */
export interface ShareTargetInput {
	userEmail?: string | undefined;
	group?: string | undefined;
	/** Every run of the workflow's name (also future ones) instead of this run only. */
	allRuns?: boolean | undefined;
}

/** A share to add. */
export interface ShareInput extends ShareTargetInput {
	permission?: string | undefined;
	/** `YYYY-MM-DD` (access ends after that day, UTC) or an ISO date-time. */
	validUntil?: string | undefined;
	message?: string | undefined;
}

/** The grants of shares, as the permission function takes them. */
export function grantsOf(shares: readonly ShareRow[]): ShareGrant[] {
	return shares.map((s) => ({
		permission: s.permission,
		targetUserId: s.target_user_id,
		targetGroupId: s.target_group_id,
		expiresAt: s.expires_at,
	}));
}

/** How a share's target reads in messages and listings: an email, or `group:NAME`. */
export function targetLabel(s: Pick<ShareView, "target_email" | "target_group">): string {
	return s.target_email ?? `group:${s.target_group ?? "?"}`;
}

/** Parses REANA's `valid_until` (a date, meaning the end of that day in UTC) or an ISO date-time; past is refused. */
export function parseValidUntil(value: string | undefined, clock: Clock): string | null {
	if (value === undefined || value.trim() === "") return null;
	const v = value.trim();
	const at = /^\d{4}-\d{2}-\d{2}$/.test(v) ? Date.parse(`${v}T23:59:59.999Z`) : Date.parse(v);
	if (Number.isNaN(at)) {
		throw new AppError("validation_failed", `valid_until '${v}' is not a date; use YYYY-MM-DD or an ISO date-time`);
	}
	if (at <= clock.now().getTime()) throw new AppError("validation_failed", `valid_until '${v}' is in the past`);
	return new Date(at).toISOString();
}

async function resolveTarget(
	db: Db,
	wf: WorkflowRow,
	input: ShareTargetInput,
): Promise<{ key: string; userId: string | null; groupId: string | null; label: string }> {
	const hasUser = Boolean(input.userEmail?.trim());
	const hasGroup = Boolean(input.group?.trim());
	if (hasUser === hasGroup) {
		throw new AppError("validation_failed", "name exactly one of user_email_to_share_with (a user) or group (a group)");
	}
	if (hasUser) {
		const email = (input.userEmail as string).trim().toLowerCase();
		const user = await findUserByEmail(db, email);
		if (!user) {
			throw new AppError(
				"not_found",
				`no user with the email ${email} is known to this server; they must log in once before workflows can be shared with them`,
			);
		}
		if (user.id === wf.owner_id) {
			throw new AppError("validation_failed", `${email} owns this workflow; it needs no share`);
		}
		return { key: targetKey({ userId: user.id }), userId: user.id, groupId: null, label: email };
	}
	const name = (input.group as string).trim();
	const group = await findGroupByName(db, name);
	if (!group) {
		throw new AppError(
			"not_found",
			`no group named '${name}' is known to this server; groups come from the identity provider's claims when members log in`,
		);
	}
	return { key: targetKey({ groupId: group.id }), userId: null, groupId: group.id, label: `group:${name}` };
}

function scopeOf(wf: WorkflowRow, allRuns: boolean | undefined): string {
	return allRuns ? nameScopeKey(wf.owner_id, wf.name) : runScopeKey(wf.id);
}

/** Shares a workflow run (or every run of its name) with a user or a group; the caller has checked `workflow.share`. */
export async function shareWorkflow(
	db: Db,
	principal: Principal,
	wf: WorkflowRow,
	input: ShareInput,
	clock: Clock,
): Promise<{ share: ShareRow; label: string }> {
	const permission = (input.permission ?? "read") as SharePermission;
	if (!sharePermissions.includes(permission)) {
		throw new AppError(
			"validation_failed",
			`permission '${input.permission}' is not one of ${sharePermissions.join(", ")}`,
		);
	}
	const message = input.message?.trim() || null;
	if (message && message.length > 5000)
		throw new AppError("validation_failed", "the message is longer than 5000 characters");
	const expiresAt = parseValidUntil(input.validUntil, clock);
	const target = await resolveTarget(db, wf, input);
	const scopeKey = scopeOf(wf, input.allRuns);
	const existing = await findShare(db, scopeKey, target.key);
	if (existing) {
		const isExpired = existing.expires_at !== null && Date.parse(existing.expires_at) <= clock.now().getTime();
		if (!isExpired) {
			throw new AppError(
				"conflict",
				`the workflow is already shared with ${target.label} (${existing.permission}${existing.expires_at ? ` until ${existing.expires_at}` : ""}); unshare it first to change the share`,
			);
		}
		await deleteShare(db, existing.id);
	}
	const share: ShareRow = {
		id: newId(),
		owner_id: wf.owner_id,
		workflow_id: input.allRuns ? null : wf.id,
		workflow_name: wf.name,
		target_user_id: target.userId,
		target_group_id: target.groupId,
		scope_key: scopeKey,
		target_key: target.key,
		permission,
		expires_at: expiresAt,
		message,
		created_by: principal.user.id,
		created_at: isoNow(clock),
	};
	await insertShare(db, share, `the workflow is already shared with ${target.label}`);
	return { share, label: target.label };
}

/** Stops sharing a run (or every run of its name) with a user or a group; effective at the next request. */
export async function unshareWorkflow(
	db: Db,
	wf: WorkflowRow,
	input: ShareTargetInput,
): Promise<{ share: ShareRow; label: string }> {
	const target = await resolveTarget(db, wf, input);
	const share = await findShare(db, scopeOf(wf, input.allRuns), target.key);
	if (!share) {
		const other = await findShare(db, scopeOf(wf, !input.allRuns), target.key);
		const hint = other
			? input.allRuns
				? "; it is shared as this run only: leave out all_runs"
				: "; it is shared as all runs of its name: pass all_runs"
			: "";
		throw new AppError("conflict", `the workflow is not shared with ${target.label}${hint}`);
	}
	await deleteShare(db, share.id);
	return { share, label: target.label };
}
