import { isAbsolute, relative } from "node:path";
import { AppError } from "../../common/index.js";
import { jobFiles, shQuote } from "../job-folder.js";

/** Files the HTCondor backend adds to a job folder in file-transfer mode. */
export const transferFiles = {
	/** The workspace without `.orrery/`, packed at submission: it travels to the execute node. */
	workspaceIn: "workspace-in.tar",
	/** The files the step created or changed (workspace-relative), sent back by HTCondor. */
	workspaceOut: "workspace-out.tar",
	/** The exit code as HTCondor sent it back; renamed to `exit-code` once the outputs are in the workspace. */
	returnedExitCode: "returned-exit-code",
	/** Where the workspace was on the execute node (symbolic links into it are retargeted). */
	scratchPath: "scratch-path",
	/** Where returned outputs are unpacked before they are moved into the workspace. */
	unpacked: "returned",
	/** The job's workspace, written at submission and read when its outputs come back. */
	record: "condor-transfer.json",
} as const;

/** What HTCondor carries to the execute node (`transfer_input_files`, relative to the job folder). */
export function transferInputs(hasSecrets: boolean): string[] {
	const secrets = hasSecrets ? [jobFiles.secretsEnv, jobFiles.secrets] : [];
	return [jobFiles.wrapper, transferFiles.workspaceIn, ...secrets];
}

/** What HTCondor brings back from the scratch directory into the job folder (`transfer_output_files`). */
export const transferOutputs: readonly string[] = [
	jobFiles.stdout,
	jobFiles.stderr,
	jobFiles.exitCode,
	transferFiles.workspaceOut,
	transferFiles.scratchPath,
];

/** What the file-transfer wrapper needs to know about its job (all paths as the server sees them). */
export interface TransferWrapperOptions {
	workspace: string;
	jobDir: string;
	workdir: string;
	/** command.sh as written for the server: every mention of the workspace is relocated at run time. */
	commandText: string;
	hasSecrets: boolean;
}

/**
 * The wrapper of a job that runs with HTCondor's file transfer. It runs in the execute node's
 * scratch directory, unpacks the workspace into `ws/` there, writes command.sh with the
 * workspace's path replaced by that folder's, runs it once, and leaves the job-folder protocol
 * files (stdout, stderr, exit-code) plus the step's changes for HTCondor to send back. Only sh,
 * tar (GNU or BusyBox), find, mkdir, mv, touch and sleep are needed on the execute node.
 */
export function transferWrapperScript(options: TransferWrapperOptions): string {
	const job = insideWorkspace(options.workspace, options.jobDir, "job folder");
	const workdir = insideWorkspace(options.workspace, options.workdir, "workdir");
	const s = (name: string) => `"$s/${name}"`;
	const inTar = s(transferFiles.workspaceIn);
	const outTar = s(transferFiles.workspaceOut);
	const secrets = `${s(jobFiles.secrets)} ${s(jobFiles.secretsEnv)}`;
	const lines = [
		"#!/bin/sh",
		"# Orrery job wrapper (HTCondor file transfer): runs command.sh once in the execute node's scratch",
		"# directory and leaves stdout, stderr, exit-code and the step's changes for HTCondor to send back.",
		"s=$(pwd)",
		'w="$s/ws"',
		`j="$w"/${shQuote(job)}`,
		"# HTCondor holds a job when a file it is to send back is missing: create them all first.",
		`: > ${s(jobFiles.stdout)}; : > ${s(jobFiles.stderr)}; : > ${s(jobFiles.exitCode)}; : > ${outTar}`,
		`echo "$w" > ${s(transferFiles.scratchPath)}`,
		"# Secrets and Orrery's folder never outlive the command and never travel back.",
		`trap 'rm -rf ${secrets} "$s/out" "$w/.orrery"' EXIT`,
		"trap 'exit 143' HUP INT TERM",
		`fail() { echo "orrery: $1" >> ${s(jobFiles.stderr)}; echo 126 > ${s(jobFiles.exitCode)}; exit 126; }`,
		// The scratch path is written into command.sh as it is, so it must need no quoting.
		`case "$w" in *[!A-Za-z0-9/._+@=,:-]*) fail "the scratch directory $w needs quoting";; esac`,
		'mkdir "$w" || fail "cannot create $w"',
		`if [ -s ${inTar} ]; then tar -xf ${inTar} -C "$w" || fail "cannot unpack the workspace"; fi`,
		`rm -f ${inTar}`,
		'mkdir -p "$j" || fail "cannot create the job folder in the workspace"',
	];
	if (options.hasSecrets) lines.push(`mv ${secrets} "$j/" || fail "cannot place the secrets"`);
	lines.push(
		`printf '%s' ${relocated(options.commandText, options.workspace)} > "$j/${jobFiles.command}" || fail "cannot write command.sh"`,
		"# What changes after this stamp is the step's output (the second covers filesystems with 1 s timestamps).",
		'touch "$s/stamp" && sleep 1',
		`cd "$w"${workdir ? `/${shQuote(workdir)}` : ""} || fail "cannot enter the step's directory"`,
		`( . "$j/${jobFiles.command}" ) > ${s(jobFiles.stdout)} 2> ${s(jobFiles.stderr)} < /dev/null`,
		"code=$?",
		'rm -rf "$w/.orrery"',
		...packLines(outTar),
		`echo $code > ${s(jobFiles.exitCode)}`,
		"exit $code",
	);
	return `${lines.join("\n")}\n`;
}

// Files (not directories) whose status changed after the stamp move into out/, which becomes the tar:
// BusyBox tar has no -T, and -exec keeps any file name intact. find's -cnewer also catches files a
// step wrote with old modification times (tar -x, cp -p); BusyBox's find lacks it and uses -newer.
function packLines(outTar: string): string[] {
	const move = `o=$1; shift; for f; do mkdir -p "$o/\${f%/*}" && mv "$f" "$o/$f" || exit 1; done`;
	return [
		"pack() {",
		'\tcd "$w" && mkdir "$s/out" || return 1',
		'\tif find "$s/stamp" -cnewer "$s/stamp" > /dev/null 2>&1; then t=-cnewer; else t=-newer; fi',
		`\tfind . $t "$s/stamp" ! -type d -exec /bin/sh -c '${move}' sh "$s/out" {} + || return 1`,
		`\t[ -z "$(ls -A "$s/out")" ] || tar -cf ${outTar} -C "$s/out" .`,
		"}",
		`pack || { : > ${outTar}; echo "orrery: cannot pack the step's outputs" >> "$s/stderr"; [ "$code" -ne 0 ] || code=1; }`,
	];
}

/** The arguments of `printf '%s'` that write `text` with each mention of `workspace` replaced by "$w". */
function relocated(text: string, workspace: string): string {
	const escaped = workspace.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
	return text
		.split(new RegExp(`${escaped}(?![A-Za-z0-9._-])`))
		.map(shQuote)
		.join(' "$w" ');
}

function insideWorkspace(workspace: string, path: string, what: string): string {
	const rel = relative(workspace, path);
	if (rel === ".." || rel.startsWith("../") || isAbsolute(rel)) {
		throw new AppError(
			"validation_failed",
			`htcondor file transfer: the ${what} ${path} is not inside the workspace ${workspace}`,
		);
	}
	return rel;
}
