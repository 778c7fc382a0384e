import { join } from "node:path";
import { AppError } from "../../common/index.js";
import type { BackendJob } from "../compute-backend.js";
import { backendJobVariable, jobFiles } from "../job-folder.js";
import type { HtcondorConfig } from "./htcondor-config.js";
import { transferFiles, transferInputs, transferOutputs } from "./transfer-wrapper.js";

/** CERN's named job flavours (REANA accepts them in htcondor_max_runtime), with their limits in seconds. */
export const jobFlavours: Readonly<Record<string, number>> = {
	espresso: 1200,
	microcentury: 3600,
	longlunch: 7200,
	workday: 28800,
	tomorrow: 86400,
	testmatch: 259200,
	nextweek: 604800,
};

/** What HTCondor is asked for, shared by every job of one submission. */
export interface CondorJobSpec {
	requestCpus?: number;
	requestMemoryMiB?: number;
	requestGpus?: number;
	maxRuntimeSeconds?: number;
	jobFlavour?: string;
	accountingGroup?: string;
	requirements?: string;
	image?: string;
	/** File transfer only: the job's secrets travel with it (jobs with and without secrets go in different clusters). */
	hasSecrets?: boolean;
}

/** The request for one job, from its resources, REANA's htcondor_* keys and the backend's settings. */
export function condorJobSpec(job: BackendJob, config: HtcondorConfig): CondorJobSpec {
	const spec: CondorJobSpec = {};
	const { cpus, memoryMiB, gpus, timeLimitSeconds } = job.resources;
	if (cpus !== undefined) spec.requestCpus = cpus;
	if (memoryMiB !== undefined) spec.requestMemoryMiB = memoryMiB;
	if (gpus !== undefined && gpus > 0) spec.requestGpus = gpus;
	const runtime = job.options.htcondor_max_runtime;
	if (typeof runtime === "string" && jobFlavours[runtime] !== undefined) spec.jobFlavour = runtime;
	else if (runtime !== undefined && runtime !== "" && !/^\d+$/.test(String(runtime))) {
		throw new AppError(
			"validation_failed",
			`htcondor_max_runtime must be seconds or one of ${Object.keys(jobFlavours).join(", ")}, not '${String(runtime)}'`,
		);
	} else if (timeLimitSeconds !== undefined) spec.maxRuntimeSeconds = Math.ceil(timeLimitSeconds);
	else if (runtime !== undefined && runtime !== "") spec.maxRuntimeSeconds = Number(runtime);
	const group = job.options.htcondor_accounting_group ?? config.accountingGroup;
	if (typeof group === "string" && group) spec.accountingGroup = group;
	if (config.requirements) spec.requirements = config.requirements;
	if (job.image !== undefined) spec.image = job.image;
	if (config.fileTransfer === "transfer" && job.secrets !== undefined) spec.hasSecrets = true;
	return spec;
}

/** Whether the backend runs this spec's image (else the job runs on the execute node's host). */
export function runsImage(spec: CondorJobSpec, config: HtcondorConfig): boolean {
	return spec.image !== undefined && (config.flavour === "compute4punch" || config.containerUniverse);
}

// Submit-language values are one line; a quoted ClassAd string escapes " and \.
function classadString(value: string): string {
	return `"${value.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`;
}

function oneLine(name: string, value: string): string {
	if (/[\r\n]/.test(value)) throw new AppError("validation_failed", `${name} must be one line`);
	return value;
}

/** An image as Apptainer on the execute node takes it: a path or URI as is, else docker://. */
export function containerImage(image: string): string {
	return image.startsWith("/") || image.includes("://") ? image : `docker://${image}`;
}

/** Job folders must be safe in a `queue … from` list: no spaces, commas or quotes. */
export function isListSafe(path: string): boolean {
	return /^[A-Za-z0-9/._+@=-]+$/.test(path);
}

/**
 * The submit description for one or many jobs with the same spec. Each job runs the job-folder
 * wrapper in its own folder (shared filesystem) or in the execute node's scratch directory (file
 * transfer), and carries `OrreryJobId`, by which a restarted server finds a job submitted just
 * before a crash.
 */
export function submitDescription(
	jobs: ReadonlyArray<{ id: string; jobDir: string }>,
	spec: CondorJobSpec,
	config: HtcondorConfig,
): string {
	const lines = ["# Orrery: generated submit description (one job per job folder)"];
	const image = spec.image !== undefined && runsImage(spec, config) ? containerImage(spec.image) : undefined;
	if (image && config.flavour === "htcondor")
		lines.push("universe = container", `container_image = ${oneLine("image", image)}`);
	else lines.push("universe = vanilla");
	const isTransfer = config.fileTransfer === "transfer";
	lines.push(
		"executable = /bin/sh",
		`arguments = ${isTransfer ? "" : "$(OrreryJobDir)/"}${jobFiles.wrapper}`,
		"transfer_executable = false",
		"initialdir = $(OrreryJobDir)",
		"output = $(OrreryJobDir)/condor.out",
		"error = $(OrreryJobDir)/condor.err",
		"log = $(OrreryJobDir)/condor.log",
		...(isTransfer
			? transferCommands(spec.hasSecrets === true)
			: // The copy that takes the wrapper's lock names itself in the folder (`holder`).
				["should_transfer_files = NO", `environment = "${backendJobVariable}=$(ClusterId).$(ProcId)"`]),
		"getenv = false",
		"batch_name = orrery",
		'+OrreryJobId = "$(OrreryJobId)"',
	);
	if (spec.requestCpus !== undefined) lines.push(`request_cpus = ${spec.requestCpus}`);
	if (spec.requestMemoryMiB !== undefined) lines.push(`request_memory = ${spec.requestMemoryMiB}`);
	if (spec.requestGpus !== undefined) lines.push(`request_gpus = ${spec.requestGpus}`);
	if (spec.requirements) lines.push(`requirements = ${oneLine("requirements", spec.requirements)}`);
	if (spec.accountingGroup) lines.push(`accounting_group = ${oneLine("accounting group", spec.accountingGroup)}`);
	if (spec.jobFlavour) lines.push(`+JobFlavour = ${classadString(spec.jobFlavour)}`);
	if (spec.maxRuntimeSeconds !== undefined) {
		lines.push(`+MaxRuntime = ${spec.maxRuntimeSeconds}`);
		// Plain pools do not act on +MaxRuntime: remove the job once it has run that long.
		if (config.flavour === "htcondor") {
			lines.push(`periodic_remove = (JobStatus == 2) && ((time() - EnteredCurrentStatus) > ${spec.maxRuntimeSeconds})`);
		}
	}
	if (image && config.flavour === "compute4punch") lines.push(`+SINGULARITY_JOB_CONTAINER = ${classadString(image)}`);
	for (const [k, v] of Object.entries(config.extraSubmit ?? {}))
		lines.push(`${oneLine("extraSubmit", k)} = ${oneLine(k, v)}`);
	if (jobs.length === 1) {
		const only = jobs[0] as { id: string; jobDir: string };
		lines.push(`OrreryJobId = ${only.id}`, `OrreryJobDir = ${oneLine("job folder", only.jobDir)}`, "queue 1");
	} else {
		lines.push("queue OrreryJobId, OrreryJobDir from (");
		for (const j of jobs) {
			if (!isListSafe(j.jobDir) || !isListSafe(j.id)) {
				throw new AppError("internal", `job folder ${j.jobDir} cannot go into a queue list`);
			}
			lines.push(`  ${j.id}, ${j.jobDir}`);
		}
		lines.push(")");
	}
	return `${lines.join("\n")}\n`;
}

/**
 * File transfer: the wrapper, the workspace tar (and secrets, encrypted on the wire) go to the
 * scratch directory; only on exit (an evicted job starts again from the same inputs) the protocol
 * files and the step's changes come back, the exit code under another name until the outputs are
 * in the workspace.
 */
function transferCommands(hasSecrets: boolean): string[] {
	const lines = [
		"should_transfer_files = YES",
		"when_to_transfer_output = ON_EXIT",
		`transfer_input_files = ${transferInputs(hasSecrets).join(", ")}`,
	];
	if (hasSecrets) lines.push(`encrypt_input_files = ${jobFiles.secretsEnv}, ${jobFiles.secrets}`);
	lines.push(
		`transfer_output_files = ${transferOutputs.join(", ")}`,
		`transfer_output_remaps = "${jobFiles.exitCode} = ${transferFiles.returnedExitCode}"`,
	);
	return lines;
}

/** The file a job's own bearer token is written to (readable by the owner only). */
export function tokenFileOf(jobDir: string): string {
	return join(jobDir, ".bearer-token");
}
