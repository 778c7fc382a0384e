import { describe, expect, it } from "vitest";
import type { JobFolderState } from "../job-folder.js";
import { baseState, observeSlurmJob, parseExitField, vanishedObservation } from "./slurm-states.js";

const notStarted: JobFolderState = { hasStarted: false };
const started: JobFolderState = { hasStarted: true, pid: 1, startedAt: new Date(1000) };
const exited = (code: number): JobFolderState => ({ ...started, exitCode: code, finishedAt: new Date(2000) });

describe("observeSlurmJob", () => {
	it("reads pending jobs as queued and running ones as running", () => {
		expect(observeSlurmJob({ id: "1", state: "PENDING" }, notStarted)).toEqual({ state: "queued" });
		expect(observeSlurmJob({ id: "1", state: "RUNNING", startedAt: new Date(5) }, started)).toEqual({
			state: "running",
			startedAt: new Date(5),
		});
	});

	it("takes the command's exit code from the job folder as soon as it is written", () => {
		expect(observeSlurmJob({ id: "1", state: "COMPLETING" }, exited(3))).toMatchObject({
			state: "exited",
			exitCode: 3,
		});
		expect(observeSlurmJob(undefined, exited(0))).toMatchObject({ state: "exited", exitCode: 0 });
	});

	it("asks accounting when neither squeue nor the folder knows the outcome", () => {
		expect(observeSlurmJob(undefined, started)).toBeUndefined();
		expect(vanishedObservation(started)).toMatchObject({ state: "lost" });
	});

	it("asks accounting why a forgotten job's command died of a signal, and keeps the code if nobody knows", () => {
		expect(observeSlurmJob(undefined, exited(143))).toBeUndefined();
		expect(observeSlurmJob({ id: "1", state: baseState("CANCELLED by 0") }, exited(143))).toMatchObject({
			state: "exited",
			exitCode: 143,
			reason: expect.stringMatching(/cancelled on Slurm outside Orrery/),
		});
		expect(vanishedObservation(exited(143))).toEqual({
			state: "exited",
			exitCode: 143,
			startedAt: new Date(1000),
			finishedAt: new Date(2000),
		});
	});

	it("explains a time limit with a non-zero exit code", () => {
		const obs = observeSlurmJob({ id: "1", state: "TIMEOUT", exitCode: 0, signal: 0 }, started, { time: "00:01:00" });
		expect(obs).toMatchObject({
			state: "exited",
			exitCode: 143,
			reason: expect.stringMatching(/time limit \(00:01:00\)/),
		});
	});

	it("explains out of memory, naming the requested memory", () => {
		const obs = observeSlurmJob({ id: "1", state: "OUT_OF_MEMORY", exitCode: 0, signal: 9 }, started, {
			memoryMiB: 512,
		});
		expect(obs).toMatchObject({
			state: "exited",
			exitCode: 137,
			reason: expect.stringMatching(/out of memory.*512 MiB/),
		});
	});

	it("reports NODE_FAIL, PREEMPTED and BOOT_FAIL as infrastructure failures (lost, retryable)", () => {
		for (const state of ["NODE_FAIL", "PREEMPTED", "BOOT_FAIL"]) {
			expect(observeSlurmJob({ id: "1", state }, started)).toMatchObject({
				state: "lost",
				reason: expect.stringContaining(state),
			});
		}
	});

	it("says a job was cancelled outside Orrery", () => {
		expect(observeSlurmJob({ id: "1", state: baseState("CANCELLED by 0") }, started)).toMatchObject({
			state: "exited",
			exitCode: 143,
			reason: expect.stringMatching(/cancelled on Slurm outside Orrery/),
		});
	});

	it("reports a job that failed before its command ran with Slurm's reason", () => {
		expect(
			observeSlurmJob({ id: "1", state: "FAILED", exitCode: 1, reason: "NonZeroExitCode" }, notStarted),
		).toMatchObject({
			state: "exited",
			exitCode: 1,
			reason: expect.stringMatching(/before its command ran.*NonZeroExitCode/),
		});
	});

	it("parses Slurm's code:signal exit field", () => {
		expect(parseExitField("3:0")).toEqual({ exitCode: 3, signal: 0 });
		expect(parseExitField("0:15")).toEqual({ exitCode: 0, signal: 15 });
		expect(parseExitField("")).toEqual({});
	});
});
