import { Command, CommanderError } from "commander";
import { isAppError, messageOf } from "../common/index.js";
import { errorTable, usageExitCode } from "../contract/errors.js";
import { registerCwlRunnerCommand } from "./commands/cwl-runner-command.js";
import { registerFileCommands } from "./commands/file-commands.js";
import { registerLoginCommands } from "./commands/login-commands.js";
import { registerProvenanceCommand } from "./commands/provenance-command.js";
import { registerReanaCommands } from "./commands/reana-commands.js";
import { registerRunCommands } from "./commands/run-commands.js";
import { registerServerCommands } from "./commands/server-commands.js";
import { registerShareCommands } from "./commands/share-commands.js";
import { registerTokenCommands } from "./commands/token-commands.js";
import { type Action, registerWorkflowCommands } from "./commands/workflow-commands.js";
import { createOutput } from "./output.js";
import { type CliDeps, Session } from "./session.js";

/** Runs the `orrery` command line and exits with the code STYLE.md assigns to the outcome. */
export async function main(argv: string[], deps: CliDeps): Promise<never> {
	const code = await runCli(argv, deps);
	process.exit(code);
}

/** Parses and runs one command line; returns the exit code instead of exiting (tests call this). */
export async function runCli(argv: string[], deps: CliDeps): Promise<number> {
	const isJson = argv.includes("--json");
	const isDebug = argv.includes("--debug") || process.env.ORRERY_DEBUG === "1";
	const out = createOutput({ isJson });
	let session: Session | undefined;
	const action: Action =
		(handler) =>
		async (...args: unknown[]) => {
			session = new Session(deps, out);
			// Commander passes (…arguments, options, command); handlers take (session, …arguments, options).
			await (handler as (s: Session, ...a: unknown[]) => Promise<void>)(session, ...args.slice(0, -1));
		};
	const program = new Command("orrery")
		.description("Reproducible analysis workflows: REANA-compatible, from a laptop to Slurm, HTCondor and Kubernetes")
		.version(deps.version, "-V, --version")
		.option("--debug", "show stack traces of errors")
		.showSuggestionAfterError(true)
		.exitOverride()
		.configureOutput({ writeErr: (s) => process.stderr.write(s), writeOut: (s) => process.stdout.write(s) });
	registerRunCommands(program, action);
	registerWorkflowCommands(program, action);
	registerFileCommands(program, action);
	registerReanaCommands(program, action);
	registerProvenanceCommand(program, action);
	registerServerCommands(program, action, deps);
	registerTokenCommands(program, action);
	registerLoginCommands(program, action);
	registerShareCommands(program, action);
	registerCwlRunnerCommand(program, action);
	// Ctrl-C: shut the embedded server down (running jobs go on and are picked up by the next command)
	// and leave with 130, as shells expect after SIGINT.
	const onSignal = () => {
		out.note("interrupted");
		void (session?.close() ?? Promise.resolve()).finally(() => process.exit(130));
	};
	process.once("SIGINT", onSignal);
	try {
		await program.parseAsync(argv, { from: "user" });
		return 0;
	} catch (error) {
		return report(error, out, isDebug);
	} finally {
		process.off("SIGINT", onSignal);
		await session?.close().catch(() => undefined);
	}
}

function report(error: unknown, out: ReturnType<typeof createOutput>, isDebug: boolean): number {
	if (error instanceof CommanderError) {
		if (
			error.code === "commander.helpDisplayed" ||
			error.code === "commander.version" ||
			error.code === "commander.help"
		)
			return 0;
		return usageExitCode;
	}
	if (isAppError(error)) {
		const details = error.details as
			| { usage?: boolean; quiet?: boolean; problems?: unknown; exitCode?: number }
			| undefined;
		if (out.isJson)
			out.json({
				message: error.message,
				code: error.code,
				...(error.details === undefined ? {} : { details: error.details }),
			});
		else if (!details?.quiet) {
			out.note(out.colour("red", `error: ${error.message}`));
			const problems = (details?.problems as Array<{ severity: string }> | undefined)?.length ?? 0;
			if (problems > 1) out.note(`(${problems} problems in all; 'orrery validate --json' lists them)`);
		}
		if (isDebug && error.stack) out.note(error.stack);
		if (details?.usage) return usageExitCode;
		if (typeof details?.exitCode === "number") return details.exitCode;
		return errorTable[error.code].exitCode;
	}
	out.note(out.colour("red", `error: ${messageOf(error)}`));
	if (isDebug && error instanceof Error && error.stack) out.note(error.stack);
	else out.note("this is a bug in Orrery; run again with --debug for details");
	return errorTable.internal.exitCode;
}
