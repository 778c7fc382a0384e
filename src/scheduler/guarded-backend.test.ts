import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, expect, it } from "vitest";
import { type ComputeBackend, LocalBackend } from "../backends/index.js";
import { CancelDeferredError, GuardedBackend } from "./guarded-backend.js";

const root = mkdtempSync(join(tmpdir(), "orrery-guarded-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** The real local backend, whose cancels fail while `isDown`. */
async function flakyLocal(): Promise<{ backend: ComputeBackend; calls: () => number; setDown: (v: boolean) => void }> {
	const inner = await LocalBackend.create({ containerRuntime: "none" });
	let calls = 0;
	let isDown = true;
	const backend = Object.assign(Object.create(inner) as LocalBackend, {
		cancel: async (ref: string) => {
			calls++;
			if (isDown) throw new Error("scancel: Unable to contact slurm controller");
			return inner.cancel(ref);
		},
	});
	return { backend, calls: () => calls, setDown: (v) => (isDown = v) };
}

it("sends a failed cancel again after a pause that grows, and a successful one only once", async () => {
	let now = 0;
	const { backend, calls, setDown } = await flakyLocal();
	const guarded = new GuardedBackend(backend, { now: () => new Date(now) }, () => undefined);
	const ref = join(root, "job-1");
	await expect(guarded.cancel(ref)).rejects.toThrow(/Unable to contact/);
	await expect(guarded.cancel(ref)).rejects.toBeInstanceOf(CancelDeferredError);
	expect(calls()).toBe(1);
	now += 1000;
	await expect(guarded.cancel(ref)).rejects.toThrow(/Unable to contact/);
	now += 1000; // the pause doubled: still waiting
	await expect(guarded.cancel(ref)).rejects.toBeInstanceOf(CancelDeferredError);
	expect(calls()).toBe(2);
	now += 1000;
	setDown(false);
	await Promise.all([guarded.cancel(ref), guarded.cancel(ref)]); // concurrent calls share one
	await guarded.cancel(ref);
	expect(calls()).toBe(3);
	await backend.close();
});
