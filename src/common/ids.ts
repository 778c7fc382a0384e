import { randomUUID } from "node:crypto";

/** A new random identifier (UUID v4), used for workflows, jobs, users and tokens. */
export function newId(): string {
	return randomUUID();
}

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** True when the string is a UUID (as opposed to a workflow name). */
export function isUuid(value: string): boolean {
	return uuidPattern.test(value);
}
