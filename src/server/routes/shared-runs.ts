import type { Static } from "typebox";
import { type Action, authorize, grantsOf, type Principal, targetLabel } from "../../auth/index.js";
import { AppError } from "../../common/index.js";
import type { ListWorkflowsQuery, WorkflowListItem } from "../../contract/index.js";
import {
	type AccessibleWorkflowQuery,
	findGroupByName,
	findUserByEmail,
	findUserById,
	interactiveSessionsOf,
	listSharesOfRun,
	listSharesOfRuns,
	targetKey,
	type UserRow,
	type WorkflowListRow,
	type WorkflowRow,
} from "../../db/index.js";
import { findRun } from "../../scheduler/index.js";
import { sessionBase } from "../interactive/jupyter-process.js";
import type { ServerContext } from "../server-context.js";
import { listItem } from "../workflow-views.js";

/** `OWNER-EMAIL:NAME[.RUN[.MINOR]]`: a run of another owner, by name (a UUID needs no owner). */
const ownerQualified = /^([^\s:/]+@[^\s:/]+):(.+)$/;

/**
 * Finds a run for a principal and checks the action on it through `can`: own runs by UUID or name, other
 * owners' runs by UUID or `OWNER-EMAIL:NAME.RUN`; shares (direct or through a group, live) decide for runs
 * the principal does not own. Revoked or expired shares stop counting at once: they are read per request.
 */
export async function findAccessibleRun(
	ctx: ServerContext,
	principal: Principal | null,
	ref: string,
	action: Action,
): Promise<WorkflowRow> {
	authorize(principal, action);
	const qualified = ownerQualified.exec(ref);
	let owner: UserRow = principal.user;
	let local = ref;
	if (qualified) {
		const found = await findUserByEmail(ctx.db, qualified[1] as string);
		if (!found) throw new AppError("not_found", `workflow '${ref}' not found: no user ${qualified[1]}`);
		owner = found;
		local = qualified[2] as string;
	}
	const wf = await findRun(ctx.db, owner, local);
	// OWNER:ID names that owner's run only; and another user's run that is not shared with the caller
	// is, by name, as unknown as one that does not exist (names are not to be found out by trying).
	const notFound = () =>
		new AppError("not_found", `workflow '${ref}' not found among your runs and those shared with you`);
	if (qualified && wf.owner_id !== owner.id) throw notFound();
	const shares = wf.owner_id === principal.user.id ? [] : grantsOf(await listSharesOfRun(ctx.db, wf));
	const reachesCaller = shares.some(
		(g) =>
			g.targetUserId === principal.user.id ||
			(g.targetGroupId !== null && principal.groupIds.includes(g.targetGroupId)),
	);
	if (qualified && !reachesCaller && wf.owner_id !== principal.user.id && principal.user.role !== "admin")
		throw notFound();
	authorize(principal, action, { ownerId: wf.owner_id, shares }, ctx.clock.now());
	return wf;
}

/** The sharing filters of a listing, when any is given (REANA's shared, shared_by, shared_with; Orrery's shared_with_me). */
export async function sharedListing(
	ctx: ServerContext,
	principal: Principal,
	query: ListWorkflowsQuery,
): Promise<AccessibleWorkflowQuery | undefined> {
	if (!query.shared && !query.shared_by && !query.shared_with && !query.shared_with_me) return undefined;
	const base = {
		userId: principal.user.id,
		groupIds: principal.groupIds,
		now: ctx.clock.now().toISOString(),
		include: query.shared_with_me || query.shared_by ? ("shared-with-me" as const) : ("own-and-shared" as const),
	};
	let ownerId: string | undefined;
	if (query.shared_by) {
		const by = await findUserByEmail(ctx.db, query.shared_by);
		if (!by) throw new AppError("not_found", `no user with the email ${query.shared_by}`);
		ownerId = by.id;
	}
	let sharedWithTarget: string | undefined;
	if (query.shared_with) {
		const group = /^group:(.+)$/.exec(query.shared_with)?.[1];
		if (group) {
			const g = await findGroupByName(ctx.db, group);
			if (!g) throw new AppError("not_found", `no group named '${group}' is known to this server`);
			sharedWithTarget = targetKey({ groupId: g.id });
		} else {
			const u = await findUserByEmail(ctx.db, query.shared_with);
			if (!u) throw new AppError("not_found", `no user with the email ${query.shared_with}`);
			sharedWithTarget = targetKey({ userId: u.id });
		}
	}
	return { ...base, ...(ownerId ? { ownerId } : {}), ...(sharedWithTarget ? { sharedWithTarget } : {}) };
}

/** Lists runs with their owners and (for one's own runs) whom they are shared with. */
export async function listingItems(
	ctx: ServerContext,
	principal: Principal,
	runs: readonly WorkflowListRow[],
	sizeOf: (wf: WorkflowListRow) => Promise<number | undefined>,
): Promise<Array<Static<typeof WorkflowListItem>>> {
	const owners = new Map<string, UserRow>([[principal.user.id, principal.user]]);
	for (const id of new Set(runs.map((r) => r.owner_id))) {
		if (!owners.has(id)) {
			const u = await findUserById(ctx.db, id);
			if (u) owners.set(id, u);
		}
	}
	const shares = await listSharesOfRuns(ctx.db, runs);
	const sessions = await interactiveSessionsOf(
		ctx.db,
		runs.map((r) => r.id),
	);
	const now = ctx.clock.now().getTime();
	return Promise.all(
		runs.map(async (wf) => {
			const session = sessions.get(wf.id);
			const item = {
				...listItem(wf, owners.get(wf.owner_id) ?? principal.user, await sizeOf(wf)),
				...(session?.status === "running"
					? { session_type: session.type, session_uri: sessionBase(session.id), session_status: "running" }
					: {}),
			};
			if (wf.owner_id !== principal.user.id) return item;
			const live = (shares.get(wf.id) ?? []).filter((s) => s.expires_at === null || Date.parse(s.expires_at) > now);
			return { ...item, shared_with: [...new Set(live.map(targetLabel))] };
		}),
	);
}
