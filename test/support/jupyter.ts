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
