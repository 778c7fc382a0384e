import { describe, expect, it } from "vitest";
import type { Principal, Scope } from "./access-tokens.js";
import { authorize, can, type ShareGrant } from "./permissions.js";

const now = new Date("2030-01-01T00:00:00Z");

function principal(
	id: string,
	scopes: Scope[] = ["read", "write", "run"],
	options: Partial<Principal> = {},
): Principal {
	return {
		user: { id, email: `${id}@example.org`, full_name: null, role: "user", created_at: "" },
		scopes,
		tokenId: null,
		sessionId: null,
		groupIds: [],
		via: "token",
		...options,
	};
}

const share = (s: Partial<ShareGrant>): ShareGrant => ({
	permission: "read",
	targetUserId: null,
	targetGroupId: null,
	expiresAt: null,
	...s,
});

describe("can", () => {
	const owner = principal("owner");
	const run = { ownerId: "owner" };

	it("lets owners do everything their scopes allow, and nobody without credentials", () => {
		for (const a of ["workflow.read", "workflow.write", "workflow.run", "workflow.share"] as const) {
			expect(can(owner, a, run, now)).toBe(true);
		}
		expect(can(principal("owner", ["read"]), "workflow.run", run, now)).toBe(false);
		expect(can(null, "workflow.read", run, now)).toBe(false);
		expect(can(owner, "admin", undefined, now)).toBe(false);
	});

	it("lets administrators with the admin scope act on anything, and only with it", () => {
		const admin = principal("root", ["read", "admin"], {
			user: { id: "root", email: "root@x", full_name: null, role: "admin", created_at: "" },
		});
		expect(can(admin, "workflow.write", run, now)).toBe(true);
		expect(can(admin, "admin", undefined, now)).toBe(true);
		const withoutScope = { ...admin, scopes: ["read", "write", "run"] as Scope[] };
		expect(can(withoutScope, "workflow.write", run, now)).toBe(false);
		expect(can(withoutScope, "admin", undefined, now)).toBe(false);
	});

	it("grants reading to read shares, running to run shares, and never writing or sharing", () => {
		const bob = principal("bob");
		const read = { ownerId: "owner", shares: [share({ targetUserId: "bob" })] };
		expect(can(bob, "workflow.read", read, now)).toBe(true);
		expect(can(bob, "workflow.run", read, now)).toBe(false);
		const runShare = { ownerId: "owner", shares: [share({ targetUserId: "bob", permission: "run" })] };
		expect(can(bob, "workflow.run", runShare, now)).toBe(true);
		expect(can(bob, "workflow.write", runShare, now)).toBe(false);
		expect(can(bob, "workflow.share", runShare, now)).toBe(false);
		expect(can(principal("carol"), "workflow.read", runShare, now)).toBe(false);
		expect(can(principal("bob", ["read"]), "workflow.run", runShare, now)).toBe(false);
	});

	it("reaches group members through group shares, until the share expires", () => {
		const member = principal("dave", ["read", "write", "run"], { groupIds: ["g1"] });
		const grouped = { ownerId: "owner", shares: [share({ targetGroupId: "g1", expiresAt: "2030-01-02T00:00:00Z" })] };
		expect(can(member, "workflow.read", grouped, now)).toBe(true);
		expect(can(principal("erin"), "workflow.read", grouped, now)).toBe(false);
		expect(can(member, "workflow.read", grouped, new Date("2030-01-02T00:00:00Z"))).toBe(false);
	});

	it("explains a denial: a missing scope, a share that expired, a share for reading only", () => {
		const bob = principal("bob");
		expect(() => authorize(principal("bob", ["read"]), "workflow.run", undefined, now)).toThrow(
			/lacks the 'run' scope/,
		);
		const expired = { ownerId: "owner", shares: [share({ targetUserId: "bob", expiresAt: "2029-12-31T00:00:00Z" })] };
		expect(() => authorize(bob, "workflow.read", expired, now)).toThrow(/expired at 2029-12-31/);
		const read = { ownerId: "owner", shares: [share({ targetUserId: "bob" })] };
		expect(() => authorize(bob, "workflow.run", read, now)).toThrow(/for 'read' only/);
		expect(() => authorize(null, "workflow.read")).toThrow(/no access token/);
	});
});
