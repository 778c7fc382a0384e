/**
 * Every route of the API against every kind of caller. A route's expectations follow from the permission it
 * declares in src/contract/routes.ts and from the resource its path names (a workflow, a token); the request
 * is generated from its schemas. Only what does not fit goes into `matrix` below.
 *
 * ADDING A ROUTE: add one line `your_operation_id: byPermission,` to `matrix`. If the generated request is
 * refused by validation (the test then reports 400 where it expected 401/403), add `request` values; if the
 * route deliberately answers differently than its permission says, add `expect` overrides with a reason.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { actions, hashToken, issueToken, type Scope, tokenScopes } from "../../src/auth/index.js";
import { systemClock } from "../../src/common/index.js";
import { type RouteContract, type RoutePermission, routes } from "../../src/contract/schemas.js";
import { ensureGroups, findTokenByHash, findUserByEmail, replaceMemberships, revokeToken } from "../../src/db/index.js";
import { testDialects } from "../support/databases.js";
import { startTestServer, type TestServer } from "../support/test-server.js";
import { type MatrixRequest, sampleRequest } from "./sample-request.js";

/** The callers every route is tried with. */
const personas = [
	"anonymous",
	"otherUser",
	"readShare",
	"runShare",
	"groupMember",
	"owner",
	"admin",
	"expiredToken",
	"revokedToken",
	"tokenLackingScope",
] as const;
type Persona = (typeof personas)[number];
/** `allow`: past authentication and authorization (any status but 401, 403, 429); else the status expected. */
type Outcome = "allow" | 401 | 403;

interface MatrixEntry {
	/** Values for the generated request (params, query, body), merged over what the schemas give. */
	request?: Partial<MatrixRequest>;
	/** The permission to derive expectations from, when the request makes the route need another one. */
	as?: RoutePermission;
	/** Expectations that differ from the derived ones. */
	expect?: Partial<Record<Persona, Outcome>>;
}

const byPermission: MatrixEntry = {};

/** Every route, and what differs from the derivation. A route missing here fails the test. */
const matrix: Record<string, MatrixEntry> = {
	ping: byPermission,
	get_you: byPermission,
	info: byPermission,
	get_workflows: byPermission,
	create_workflow: {
		request: { body: { workflow: { type: "serial", specification: { steps: [{ commands: ["true"] }] } } } },
	},
	validate_workflow: {
		request: { body: { workflow: { type: "serial", specification: { steps: [{ commands: ["true"] }] } } } },
	},
	get_workflow_status: byPermission,
	// status=stop needs the run permission (status=deleted would need write).
	set_workflow_status: { request: { query: { status: "stop" } }, as: "workflow.run" },
	start_workflow: byPermission,
	get_workflow_logs: byPermission,
	get_workflow_specification: byPermission,
	get_files: byPermission,
	upload_file: { request: { query: { file_name: "data/in.txt" } } },
	download_file: byPermission,
	delete_file: byPermission,
	get_workflow_jobs: byPermission,
	get_job_log: byPermission,
	get_workflow_events: byPermission,
	get_workflow_outputs: byPermission,
	get_workflow_provenance: byPermission,
	list_tokens: byPermission,
	create_token: { request: { body: { name: "matrix" } } },
	revoke_token: byPermission,
	auth_config: byPermission,
	oidc_login: byPermission,
	oidc_callback: byPermission,
	logout: byPermission,
	device_login_start: byPermission,
	device_login_poll: byPermission,
	share_workflow: { request: { body: { user_email_to_share_with: "stranger@example.org" } } },
	unshare_workflow: { request: { query: { user_email_to_unshare_with: "stranger@example.org" } } },
	get_workflow_share_status: byPermission,
	get_users_shared_with_you: byPermission,
	get_users_you_shared_with: byPermission,
	get_your_groups: byPermission,
	get_audit_log: byPermission,
	request_token: byPermission,
	delete_token: byPermission,
	get_workflow_parameters: byPermission,
	get_workflow_disk_usage: byPermission,
	move_files: byPermission,
	prune_workspace: byPermission,
	get_workflow_retention_rules: byPermission,
	get_workflow_diff: byPermission,
	get_secrets: byPermission,
	add_secrets: byPermission,
	delete_secrets: byPermission,
	get_quota_usage: { request: { query: { resource_type: "disk" } } },
	set_quota_limit: { request: { body: { email: "owner@example.org", resource_type: "disk", limit: 1 } } },
	patch_quota: byPermission,
	status: byPermission,
	get_config: byPermission,
	get_file_digests: { request: { body: { files: [{ name: "data/in.txt" }] } } },
	upload_archive: byPermission,
	download_archive: { request: { body: { files: ["data/in.txt"] } } },
	// Not implemented (501), but the run is looked up and checked first, as for any route.
	// A session type that does not exist: past the permission check it answers 404, and no Jupyter is started.
	open_interactive_session: { request: { params: { interactive_session_type: "matrix" } } },
	close_interactive_session: byPermission,
	create_session_ticket: byPermission,
	launch: byPermission,
	gitlab_oauth: byPermission,
	gitlab_connect: byPermission,
	gitlab_projects: byPermission,
	create_gitlab_webhook: byPermission,
	delete_gitlab_webhook: byPermission,
};

/** The actions each kind of share grants (see `shareGrants` in src/auth/permissions.ts). */
const sharedActions: Partial<Record<Persona, readonly RoutePermission[]>> = {
	readShare: ["workflow.read"],
	runShare: ["workflow.read", "workflow.run"],
	groupMember: ["workflow.read"],
	otherUser: [],
};

/** What a route names in its path: a workflow run or a token (whose owner matters), or nothing. */
function resourceOf(r: RouteContract): "workflow" | "token" | null {
	if (/:workflow_id_or_name/.test(r.url)) return "workflow";
	if (/:token_id/.test(r.url)) return "token";
	return null;
}

/** The outcome a persona should get, from the route's declared permission. */
function derived(r: RouteContract, permission: RoutePermission, persona: Persona): Outcome {
	if (permission === "public") return "allow";
	if (persona === "anonymous") return 401;
	if (persona === "expiredToken" || persona === "revokedToken" || persona === "tokenLackingScope") return 403;
	if (permission === "admin") return persona === "admin" ? "allow" : 403;
	const resource = resourceOf(r);
	if (resource === null || persona === "owner" || persona === "admin") return "allow";
	if (resource === "token") return 403;
	return (sharedActions[persona] ?? []).includes(permission) ? "allow" : 403;
}

const spec = { workflow: { type: "serial", specification: { steps: [{ name: "s", commands: ["true"] }] } } };

describe.each(testDialects)("permission matrix of every route (%s)", (dialect) => {
	let t: TestServer;
	const tokens = {} as Record<Exclude<Persona, "anonymous" | "tokenLackingScope">, string>;
	let ownerId: string;

	beforeAll(async () => {
		t = await startTestServer(dialect, {
			env: { ORRERY_AUTH_FAILURES_PER_IP: "100000", ORRERY_AUTH_FAILURES_PER_TOKEN: "100000" },
		});
		const owner = await t.user("owner@example.org");
		ownerId = owner.id;
		tokens.owner = owner.token;
		tokens.otherUser = (await t.user("other@example.org")).token;
		tokens.readShare = (await t.user("reader@example.org")).token;
		tokens.runShare = (await t.user("runner@example.org")).token;
		const member = await t.user("member@example.org");
		tokens.groupMember = member.token;
		tokens.admin = (await t.user("admin@example.org", { admin: true })).token;
		tokens.expiredToken = await ownerToken(
			tokenScopes.filter((s) => s !== "admin"),
			new Date(Date.now() - 60_000),
		);
		tokens.revokedToken = await ownerToken(["read", "write", "run"], null);
		const revoked = await findTokenByHash(t.server.db, hashToken(tokens.revokedToken));
		await revokeToken(t.server.db, revoked?.token.id as string, new Date().toISOString());
		const now = new Date().toISOString();
		const groups = await ensureGroups(t.server.db, ["collaboration"], now);
		await replaceMemberships(t.server.db, member.id, [groups[0]?.id as string], now);
		await t.user("stranger@example.org");
	});
	afterAll(async () => t?.close());

	async function ownerToken(scopes: readonly Scope[], expiresAt: Date | null): Promise<string> {
		const user = await findUserByEmail(t.server.db, "owner@example.org");
		const issued = await issueToken(t.server.db, user!, { name: "matrix", scopes, expiresAt }, systemClock);
		return issued.value;
	}

	/** A fresh run of the owner, shared read with reader, run with runner and read with the group. */
	async function sharedRun(): Promise<string> {
		const res = await t.call("POST", "/api/workflows?workflow_name=matrix", { token: tokens.owner, body: spec });
		const { workflow_id } = (await res.json()) as { workflow_id: string };
		for (const body of [
			{ user_email_to_share_with: "reader@example.org", permission: "read" },
			{ user_email_to_share_with: "runner@example.org", permission: "run" },
			{ group: "collaboration", permission: "read" },
		]) {
			const shared = await t.call("POST", `/api/workflows/${workflow_id}/share`, { token: tokens.owner, body });
			expect(shared.status).toBe(200);
		}
		return workflow_id;
	}

	/** The credential of a persona for a route: the token lacking the scope depends on the route's permission. */
	async function credential(persona: Persona, permission: RoutePermission): Promise<string | undefined> {
		if (persona === "anonymous") return undefined;
		if (persona !== "tokenLackingScope") return tokens[persona];
		if (permission === "admin") {
			const admin = await findUserByEmail(t.server.db, "admin@example.org");
			return (
				await issueToken(
					t.server.db,
					admin!,
					{ name: "no-admin", scopes: ["read", "write", "run"], expiresAt: null },
					systemClock,
				)
			).value;
		}
		const needed = permission === "public" ? "read" : actions[permission];
		return ownerToken(
			tokenScopes.filter((s) => s !== needed && s !== "admin"),
			null,
		);
	}

	it("has an entry for every route of the contract, and none for routes that are gone", () => {
		const missing = Object.keys(routes).filter((op) => !(op in matrix));
		const stale = Object.keys(matrix).filter((op) => !(op in routes));
		expect(missing, `add these to \`matrix\` in ${import.meta.filename} (see the comment at its top)`).toEqual([]);
		expect(stale, "remove these from `matrix`: the contract has no such routes").toEqual([]);
	});

	it("answers every route as its permission and the matrix say, for every kind of caller", async () => {
		const failures: string[] = [];
		const getRun = await sharedRun();
		const getToken = await ownerTokenId();
		for (const [op, contract] of Object.entries(routes) as Array<[string, RouteContract]>) {
			const entry = matrix[op];
			if (!entry) continue;
			const permission = entry.as ?? contract.permission;
			// The callers of one route go at once (each on its own fixture where it may change something).
			await Promise.all(
				personas.map(async (persona) => {
					const want = entry.expect?.[persona] ?? derived(contract, permission, persona);
					// Allowed calls that change something get their own run (and token), so an earlier one cannot spoil
					// them; denied calls change nothing (or the test fails anyway) and share one run.
					const isFresh = contract.method !== "GET" && want === "allow";
					const workflowId = isFresh ? await sharedRun() : getRun;
					const tokenId = resourceOf(contract) === "token" ? (isFresh ? await ownerTokenId() : getToken) : "none";
					const req = sampleRequest(contract, { workflowId, tokenId }, entry.request);
					const token = await credential(persona, permission);
					const res = await t.call(contract.method, req.path, {
						...(token ? { token, bearer: true } : {}),
						...(req.body !== undefined ? { body: req.body } : {}),
						...(req.raw !== undefined ? { raw: req.raw } : {}),
					});
					await res.arrayBuffer();
					const got = res.status === 401 || res.status === 403 || res.status === 429 ? res.status : "allow";
					if (got !== want)
						failures.push(`${op} as ${persona}: expected ${want}, got ${res.status} (${contract.method} ${req.path})`);
				}),
			);
		}
		expect(failures.sort()).toEqual([]);
	}, 300_000);

	async function ownerTokenId(): Promise<string> {
		const value = await ownerToken(["read"], null);
		const found = await findTokenByHash(t.server.db, hashToken(value));
		expect(found?.token.user_id).toBe(ownerId);
		return found?.token.id as string;
	}
});
