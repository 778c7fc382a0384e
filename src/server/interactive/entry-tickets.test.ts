import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { systemClock } from "../../common/index.js";
import { secretBox } from "../../secrets/index.js";
import { issueEntryTicket, redeemEntryTicket } from "./entry-tickets.js";

const folders: string[] = [];
const folder = () => {
	const d = mkdtempSync(join(tmpdir(), "orrery-tickets-"));
	folders.push(d);
	return d;
};
afterEach(() => {
	for (const d of folders.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe("session entry tickets", () => {
	const box = secretBox(randomBytes(32));
	const grant = { sessionId: "s1", userId: "u1", credential: "tt1" };

	it("enter once, for their session", async () => {
		const used = folder();
		const ticket = issueEntryTicket(box, systemClock, grant);
		await expect(redeemEntryTicket(box, systemClock, "s2", ticket, used)).rejects.toThrow(/another session/);
		expect(await redeemEntryTicket(box, systemClock, "s1", ticket, used)).toMatchObject({ userId: "u1" });
		await expect(redeemEntryTicket(box, systemClock, "s1", ticket, used)).rejects.toThrow(/already used/);
	});

	it("cannot be made by sealing their contents with the server's key (as a user's secret is sealed)", async () => {
		const forged = box.seal(
			JSON.stringify({
				p: "session-entry",
				s: "s1",
				u: "someone-else",
				c: "tt9",
				e: Date.now() + 30_000,
				n: "0123456789abcdef0123",
			}),
		);
		await expect(redeemEntryTicket(box, systemClock, "s1", forged, folder())).rejects.toThrow(/not valid/);
	});
});
