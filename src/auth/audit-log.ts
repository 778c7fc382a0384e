import type { Clock } from "../common/index.js";
import { appendAuditEvent, type Db } from "../db/index.js";
import type { Principal } from "./access-tokens.js";

/** The kinds of security events the audit log records. */
export const auditEventTypes = [
	"login",
	"login_failed",
	"logout",
	"token_created",
	"token_revoked",
	"share_added",
	"share_removed",
	"permission_denied",
	"auth_failed",
	"rate_limited",
] as const;
/** One kind of security event. */
export type AuditEventType = (typeof auditEventTypes)[number];

/** One security event to record. */
export interface AuditEntry {
	type: AuditEventType;
	/** Who acted, when known. */
	principal?: Principal | null;
	/** Who acted when there is no principal (an email at login, a token prefix at a failed authentication). */
	actor?: string | null;
	ip?: string | null;
	target?: string | null;
	message: string;
}

/** Appends a security event to the audit log. */
export async function recordAudit(db: Db, clock: Clock, entry: AuditEntry): Promise<void> {
	await appendAuditEvent(db, {
		at: clock.now().toISOString(),
		type: entry.type,
		actor_id: entry.principal?.user.id ?? null,
		actor: entry.principal?.user.email ?? entry.actor ?? null,
		ip: entry.ip ?? null,
		target: entry.target ?? null,
		message: entry.message.slice(0, 2000),
	});
}
