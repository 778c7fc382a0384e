import type { CommandWord } from "./command-line.js";

/** One file-system action before the tool runs (engines cannot write files, so the job does). */
export type StageAction =
	| { kind: "link"; from: string; to: string }
	| { kind: "copy"; from: string; to: string }
	| { kind: "write"; to: string; content: string }
	| { kind: "mkdir"; to: string };

/** Everything the shell script of one tool invocation needs. */
export interface JobScript {
	/** The job's own folder in the workspace (absolute): out/, tmp/, exit-code. */
	jobDir: string;
	outdir: string;
	tmpdir: string;
	/** Where inputs that must be renamed, and literals, are staged. */
	stagedir: string;
	stage: StageAction[];
	env: Record<string, string>;
	words: CommandWord[];
	/** ShellCommandRequirement: the words form one shell command line. */
	isShell: boolean;
	stdin?: string;
	stdout?: string;
	stderr?: string;
	successCodes: number[];
	temporaryFailCodes: number[];
	permanentFailCodes: number[];
}

/** The name of the file, in the job folder, that holds the tool's real exit code. */
export const exitCodeFile = "exit-code";

/** Quotes a word for POSIX sh. */
export function shQuote(value: string): string {
	if (/^[A-Za-z0-9_./:=@%+,-]+$/.test(value)) return value;
	return `'${value.replace(/'/g, `'\\''`)}'`;
}

/**
 * The shell script of one invocation: stage inputs, run the tool with a clean environment in its
 * output directory, and exit 0 exactly when CWL counts the tool's exit code a success (a tool with
 * successCodes or fail codes has its real exit code recorded in `exit-code` for `runtime.exitCode`).
 */
export function renderJobScript(job: JobScript): string {
	// Paths in the job folder are written as "$J"/…: shorter scripts, and readable ones.
	const q = (path: string) =>
		path === job.jobDir
			? '"$J"'
			: path.startsWith(`${job.jobDir}/`)
				? `"$J"${shQuote(path.slice(job.jobDir.length))}`
				: shQuote(path);
	// Every folder the staging needs is made by one mkdir, and only when one is missing (the scheduler
	// makes the output and temporary folders with the job folder): each command is a process.
	const dirs = [
		...new Set([
			job.outdir,
			job.tmpdir,
			...job.stage.map((a) => (a.kind === "mkdir" ? a.to : a.to.slice(0, a.to.lastIndexOf("/")) || "/")),
		]),
	].map(q);
	const lines: string[] = [
		`J=${shQuote(job.jobDir)}`,
		...emptyFoldersLine(job, q),
		`${dirs.map((d) => `[ -d ${d} ]`).join(" && ")} || mkdir -p ${dirs.join(" ")}`,
	];
	for (const a of job.stage) lines.push(...stageLines(a, q));
	lines.push(`cd ${q(job.outdir)} || exit 70`);
	const env = {
		HOME: job.outdir,
		TMPDIR: job.tmpdir,
		...job.env,
	};
	const envWords = Object.entries(env)
		.filter(([k]) => /^[A-Za-z_][A-Za-z0-9_]*$/.test(k))
		.map(([k, v]) => `${k}=${q(v)}`);
	const hasPath = Object.hasOwn(job.env, "PATH");
	const command = job.isShell
		? `/bin/sh -c ${shQuote(job.words.map((w) => (w.isQuoted ? shQuote(w.text) : w.text)).join(" "))}`
		: job.words.map((w) => shQuote(w.text)).join(" ");
	let redirects = "";
	if (job.stdin !== undefined) redirects += ` < ${q(job.stdin)}`;
	for (const [stream, target] of [
		["", job.stdout],
		["2", job.stderr],
	] as const) {
		if (target === undefined) continue;
		if (target.includes("/")) lines.push(`mkdir -p ${shQuote(target.slice(0, target.lastIndexOf("/")) || "/")}`);
		redirects += ` ${stream}> ${shQuote(target)}`;
	}
	// The tool gets a clean environment: PATH, HOME, TMPDIR and its EnvVarRequirement. dash clears the
	// inherited variables with builtins (one fork, where `env -i` is a program started per job, ~0.6 ms
	// on a virtual machine); bash (which can export functions that `export -p` does not list) and any
	// name that cannot be unset take `env -i`.
	lines.push(cleanEnvironmentLines);
	const tool = `${command || "true"}${redirects}`;
	const clean = `export ${envWords.join(" ")}; exec ${tool}`;
	const fallback = `env -i ${hasPath ? "" : 'PATH="$PATH" '}${envWords.join(" ")} ${tool}`;
	// With CWL's default codes (0 succeeds, anything else fails) the shell can hand over to the tool:
	// one process fewer per job, and the job's exit code is the tool's own.
	if (job.successCodes.length === 0 && job.temporaryFailCodes.length === 0 && job.permanentFailCodes.length === 0) {
		lines.push(`if [ -z "$orrery_dirty" ]; then ${clean}; else exec ${fallback}; fi`);
		return lines.join("\n");
	}
	lines.push(`if [ -z "$orrery_dirty" ]; then (${clean}); else ${fallback}; fi`);
	lines.push("c=$?");
	lines.push(`echo $c > "$J"/${exitCodeFile}`);
	const failing = new Set([...job.temporaryFailCodes, ...job.permanentFailCodes]);
	const success = new Set(job.successCodes);
	if (!failing.has(0)) success.add(0);
	for (const f of failing) success.delete(f);
	if (success.size > 0) lines.push(`case $c in ${[...success].join("|")}) exit 0 ;; esac`);
	lines.push(`[ $c -eq 0 ] && exit 1`);
	lines.push("exit $c");
	return lines.join("\n");
}

/**
 * Unsets every exported variable but PATH with shell builtins, or sets `orrery_dirty` when that cannot
 * be done exactly (bash, a name that is not an identifier or is one of these, a read-only variable).
 * The names come from the job's wrapper when its starter announced what it passes on (the local
 * launcher's `ORRERY_ENV_NAMES`, matching what the wrapper was written for) with what the wrapper
 * exports and what the shells add (PWD, OLDPWD, SHLVL, `_`); otherwise from `export -p` (a fork).
 * The loop's errors go to /dev/null once, not per name (a redirection per `unset` is an open and a
 * close each: 0.5 ms per job for 40 variables on a slow virtual machine).
 */
const unsetName =
	'case $orrery_name in PATH) ;; orrery_*|*[!A-Za-z0-9_]*|[0-9]*|"") orrery_dirty=1 ;; *) command unset "$orrery_name" || orrery_dirty=1 ;; esac';
const cleanEnvironmentLines = [
	`orrery_dirty=\${BASH_VERSION-}; set -f; if [ -n "\${orrery_inherited+x}" ] && [ -n "\${ORRERY_ENV_NAMES+x}" ] && [ "$ORRERY_ENV_NAMES" = "$orrery_inherited" ]; then { for orrery_name in $orrery_inherited $orrery_exported ORRERY_ENV_NAMES PWD OLDPWD SHLVL _; do ${unsetName}; done; } 2>/dev/null; else orrery_env=$(export -p); IFS="`,
	`"; { for orrery_line in $orrery_env; do case $orrery_line in "export "*) orrery_name=\${orrery_line#export }; orrery_name=\${orrery_name%%=*}; ${unsetName} ;; esac; done; } 2>/dev/null; unset IFS orrery_env orrery_line; fi; unset orrery_name; set +f`,
].join("\n");

/**
 * Every attempt starts from empty output, temporary and staging folders: the attempts of a job share
 * its folder, and an earlier one (a temporaryFailCodes exit, a failure retried) may have left files
 * that the output globs would match. Removed and made again only when one holds something (the
 * globs and tests are builtins; `rm` is a process). `rm -rf` removes a link it meets, never what it
 * leads to, and only folders inside the job folder are named.
 */
function emptyFoldersLine(job: JobScript, q: (path: string) => string): string[] {
	const folders = [job.outdir, job.tmpdir, job.stagedir].filter((f) => f.startsWith(`${job.jobDir}/`)).map(q);
	if (folders.length === 0) return [];
	const entries = folders.flatMap((f) => [`${f}/*`, `${f}/.[!.]*`, `${f}/..?*`]);
	return [
		`for orrery_f in ${entries.join(" ")}; do if [ -e "$orrery_f" ] || [ -L "$orrery_f" ]; then rm -rf ${folders.join(" ")} || exit 70; break; fi; done; unset orrery_f`,
	];
}

function stageLines(a: StageAction, q: (path: string) => string): string[] {
	switch (a.kind) {
		case "mkdir":
			return [];
		case "link":
			return [`ln -sfn ${q(a.from)} ${q(a.to)}`];
		case "copy":
			return [`rm -rf ${q(a.to)}`, `cp -RL ${q(a.from)} ${q(a.to)}`, `chmod -R u+w ${q(a.to)}`];
		case "write":
			return [`printf '%s' ${shQuote(a.content)} > ${q(a.to)}`];
	}
}
