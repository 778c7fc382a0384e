import { execFileSync } from "node:child_process";

/**
 * True when Debian's Jupyter (`jupyter-notebook`, `python3-ipykernel`) is installed, as .ci/run makes
 * sure; the interactive session tests skip without it, saying so, except under CI=true.
 */
export function hasJupyter(): boolean {
	try {
		execFileSync("jupyter", ["notebook", "--version"], { stdio: "ignore" });
		return true;
	} catch {
		return false;
	}
}

/** Whether the interactive session tests run here: always in CI (where a missing Jupyter fails them). */
export const runsJupyterTests = hasJupyter() || process.env.CI === "true";

/** The processes whose command line names every one of `texts` (this listing itself left out). */
export function processesNaming(...texts: string[]): number[] {
	const out = execFileSync("ps", ["-eo", "pid=,args="], { encoding: "utf8" });
	return out
		.split("\n")
		.filter((l) => texts.every((t) => l.includes(t)) && !l.includes(" ps -eo"))
		.map((l) => Number(l.trim().split(/\s+/)[0]));
}

/**
 * Ends the Jupyter servers of sessions on workspaces under `dir` (a test server's home): sessions
 * outlive their server by design, so a test that stops its server, or fails before closing a session,
 * ends them here.
 */
export function endSessionsUnder(dir: string): void {
	for (const pid of processesNaming("--NotebookApp.base_url=/sessions/", `--notebook-dir=${dir}`)) {
		try {
			process.kill(-pid, "SIGKILL");
		} catch {
			// gone meanwhile
		}
	}
}
