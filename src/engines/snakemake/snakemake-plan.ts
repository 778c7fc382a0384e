import { execFile } from "node:child_process";
import { availableParallelism } from "node:os";
import { AppError } from "../../common/index.js";

/** One job of a Snakemake workflow's DAG, as Snakemake itself plans it. */
export interface SnakemakeJob {
	jobid: number;
	rule: string;
	input: string[];
	output: string[];
	/** Outputs marked touch(): made (or their times set) once the job's command has run. */
	touch: string[];
	log: string[];
	/** The jobs (ids) whose outputs this one reads. */
	deps: number[];
	/** The shell command with its placeholders filled in; null for a rule that runs no shell command. */
	shell: string | null;
	/** The rule's own kind of work: a shell command, or Python code (`run:`, `script:`, wrappers, notebooks). */
	isShell: boolean;
	/** The rule's `container:` image, if any. */
	container: string | null;
	threads: number;
	memMb: number | null;
	/** The rule's `runtime` resource, in minutes. */
	runtimeMinutes: number | null;
	wildcards: Record<string, string>;
}

/**
 * Builds the DAG with Snakemake's own classes (its workflow, its DAG, every job forced, nothing run,
 * no lock taken) and prints it as JSON: each job's rule, files, dependencies, formatted shell command,
 * container, threads and resources.
 */
const planScript = `
import json, os, sys
from snakemake.workflow import Workflow
from snakemake.dag import DAG
from snakemake.persistence import Persistence
from snakemake.io import is_flagged
snakefile, workdir, config_json, cores = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
configfiles = sys.argv[5:]
os.chdir(workdir)
import yaml
# The config files, then the values given over them, win over the Snakefile's own configfile: (as --configfile and --config do).
config = {}
for c in configfiles:
    with open(c) as f:
        config.update(yaml.safe_load(f) or {})
config.update(json.loads(config_json))
wf = Workflow(snakefile=snakefile, overwrite_configfiles=configfiles, overwrite_config=config, cores=cores, nodes=cores)
wf.config.update(config)
wf.include(snakefile, overwrite_default_target=True)
wf.check()
checkpoints = [r.name for r in wf.rules if r.is_checkpoint]
if checkpoints:
    print("ORRERY-REFUSE checkpoint rules (" + ", ".join(checkpoints) + ") are not supported: the DAG they change while it runs is planned once")
    sys.exit(0)
target = wf.get_rule(wf.default_target) if wf.default_target else list(wf.rules)[0]
dag = DAG(wf, list(wf.rules), dryrun=True, targetfiles=set(), targetrules={target}, forceall=True, ignore_incomplete=True)
wf.persistence = Persistence(nolock=True, dag=dag, warn_only=True)
dag.init()
dag.update_checkpoint_dependencies()
dag.check_dynamic()
def num(v):
    return v if isinstance(v, (int, float)) and not isinstance(v, bool) else None
jobs = []
for job in dag.jobs:
    is_shell = job.rule.shellcmd is not None
    shell = job.shellcmd if is_shell else None
    jobs.append({
        "jobid": dag.jobid(job),
        "rule": job.rule.name,
        "input": [str(f) for f in job.input],
        "output": [str(f) for f in job.output],
        "touch": [str(f) for f in job.output if is_flagged(f, "touch")],
        "log": [str(f) for f in job.log],
        "deps": sorted(dag.jobid(d) for d in dag.dependencies[job]),
        "shell": shell,
        # A value only known once the inputs exist (a params function reading them) is filled in at run time, by Snakemake.
        "isShell": is_shell and "<TBD>" not in (shell or ""),
        "container": job.container_img_url,
        "threads": job.threads,
        "memMb": num(job.resources.get("mem_mb")),
        "runtimeMinutes": num(job.resources.get("runtime")),
        "wildcards": {k: str(v) for k, v in job.wildcards_dict.items()},
    })
print("ORRERY-PLAN " + json.dumps({"jobs": jobs, "config": config}))
`;

let python: Promise<string | undefined> | undefined;

/**
 * The Python that has Snakemake: ORRERY_SNAKEMAKE_PYTHON, else the interpreter the `snakemake`
 * program on the PATH names in its first line (`#!/usr/bin/python3`, or through `env`).
 */
export function snakemakePython(env: NodeJS.ProcessEnv = process.env): Promise<string | undefined> {
	if (env.ORRERY_SNAKEMAKE_PYTHON) return Promise.resolve(env.ORRERY_SNAKEMAKE_PYTHON);
	python ??= new Promise((done) => {
		execFile("sh", ["-c", 'p=$(command -v snakemake) && sed -n "1s/^#! *//p;q" "$p"'], (error, out) => {
			const words = error ? [] : out.trim().split(/\s+/);
			done(words[0]?.endsWith("/env") ? words[1] : words[0] || undefined);
		});
	});
	return python;
}

/** Where a Snakemake error points: the Snakefile's line, when Snakemake says. */
export interface PlanError {
	message: string;
	line?: number;
}

/**
 * Plans a Snakemake workflow in its working directory: the Snakefile, the config files, and config
 * values over them. Throws `AppError` with Snakemake's own message (and the Snakefile's line when it
 * gives one) when the workflow does not load.
 */
export async function planSnakemake(options: {
	snakefile: string;
	workdir: string;
	configFiles: string[];
	config: Record<string, unknown>;
	timeoutMs?: number;
}): Promise<{ jobs: SnakemakeJob[]; config: Record<string, unknown> }> {
	const python = await snakemakePython();
	if (!python) {
		throw new AppError(
			"backend_unavailable",
			"snakemake workflows need Snakemake on the server's host: install it (e.g. apt-get install snakemake) or set ORRERY_SNAKEMAKE_PYTHON",
		);
	}
	const timeoutMs = options.timeoutMs ?? 120_000;
	const cores = Number(process.env.ORRERY_SNAKEMAKE_CORES) || availableParallelism();
	const { stdout, stderr, error } = await new Promise<{ stdout: string; stderr: string; error: Error | null }>(
		(done) => {
			try {
				execFile(
					python,
					[
						"-c",
						planScript,
						options.snakefile,
						options.workdir,
						JSON.stringify(options.config),
						String(cores),
						...options.configFiles,
					],
					// The Snakefile is the user's Python: it gets the basics of an environment, not the server's settings.
					{ timeout: timeoutMs, maxBuffer: 256 * 1024 * 1024, cwd: options.workdir, env: planEnvironment() },
					(err, out, errText) => done({ stdout: out, stderr: errText, error: err }),
				);
			} catch (err) {
				done({ stdout: "", stderr: "", error: err as Error });
			}
		},
	);
	const refused = stdout.split("\n").find((l) => l.startsWith("ORRERY-REFUSE "));
	if (refused)
		throw new AppError("validation_failed", `${options.snakefile}: ${refused.slice("ORRERY-REFUSE ".length)}`);
	const line = stdout.split("\n").find((l) => l.startsWith("ORRERY-PLAN "));
	if (!error && line)
		return JSON.parse(line.slice("ORRERY-PLAN ".length)) as { jobs: SnakemakeJob[]; config: Record<string, unknown> };
	const code = (error as (NodeJS.ErrnoException & { killed?: boolean }) | null)?.code;
	if (code === "ENOENT") {
		throw new AppError(
			"backend_unavailable",
			`snakemake workflows need Snakemake on the server's host: ${python} was not found (install Snakemake, e.g. apt-get install snakemake, or set ORRERY_SNAKEMAKE_PYTHON)`,
		);
	}
	if ((error as { killed?: boolean } | null)?.killed) {
		throw new AppError(
			"validation_failed",
			`${options.snakefile}: Snakemake did not plan the workflow within ${Math.round(timeoutMs / 1000)} s`,
		);
	}
	if (!stderr)
		throw new AppError(
			"validation_failed",
			`${options.snakefile}: Snakemake could not plan the workflow (${error?.message.split("\n")[0] ?? "no answer"})`,
		);
	throw planError(stderr, options.snakefile);
}

/** What the planning Python gets of the server's environment: the basics, never its settings and credentials. */
function planEnvironment(base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
	const kept = /^(PATH|HOME|USER|LOGNAME|LANG|LANGUAGE|LC_[A-Z]+|TZ|TMPDIR|PYTHONPATH)$/;
	return Object.fromEntries(Object.entries(base).filter(([k]) => kept.test(k)));
}

/** Snakemake's error, shortened to what a user needs: the exception's message and the Snakefile's line. */
function planError(stderr: string, snakefile: string): AppError {
	const lines = stderr.trim().split("\n");
	// Python names the Snakefile's line (`File "workflow/Snakefile", line 5`); Snakemake's own errors say `line 5 of …/Snakefile`.
	const name = snakefile.split("/").pop() as string;
	let line: number | undefined;
	for (const l of lines) {
		const m = /File "([^"]+)", line (\d+)/.exec(l) ?? /line (\d+) of (\S+)/.exec(l);
		if (!m) continue;
		const [file, n] = m[0].startsWith("File") ? [m[1], m[2]] : [m[2], m[1]];
		if (file?.endsWith(name)) line = Number(n);
	}
	// The message: from the last line that names an error or exception to the end.
	let start = lines.length - 1;
	for (let k = lines.length - 1; k >= 0; k--) {
		if (/^[\w.]*(Error|Exception)\b.*:/.test((lines[k] as string).trim())) {
			start = k;
			break;
		}
	}
	const message = lines.slice(start).join(" ").replace(/\s+/g, " ").trim().slice(0, 600);
	return new AppError("validation_failed", `${snakefile}${line === undefined ? "" : `:${line}`}: ${message}`, {
		details: { line },
	});
}
