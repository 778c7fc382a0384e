import { spawnSync } from "node:child_process";
import {
	existsSync,
	mkdirSync,
	mkdtempSync,
	readdirSync,
	readFileSync,
	readlinkSync,
	rmSync,
	symlinkSync,
	writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { type JobScript, renderJobScript } from "./job-script.js";

let dir: string;
beforeEach(() => {
	dir = mkdtempSync(join(tmpdir(), "orrery-cwl-script-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function script(overrides: Partial<JobScript>): JobScript {
	return {
		jobDir: dir,
		outdir: `${dir}/out`,
		tmpdir: `${dir}/tmp`,
		stagedir: `${dir}/stg`,
		stage: [],
		env: {},
		words: [],
		isShell: false,
		successCodes: [],
		temporaryFailCodes: [],
		permanentFailCodes: [],
		...overrides,
	};
}

function run(job: JobScript): { status: number | null; stdout: string } {
	const r = spawnSync("sh", ["-c", renderJobScript(job)], {
		encoding: "utf8",
		env: { ...process.env, SECRET: "leak" },
	});
	return { status: r.status, stdout: r.stdout };
}

const word = (text: string, isQuoted = true) => ({ text, isQuoted });

describe("job scripts", () => {
	test("run the tool in the output directory with a clean environment and redirections", () => {
		writeFileSync(join(dir, "in.txt"), "from stdin\n");
		const r = run(
			script({
				words: [word("sh"), word("-c"), word('cat; echo "$HOME|$TMPDIR|${SECRET:-none}|$GREETING"; pwd')],
				env: { GREETING: "it's me" },
				stdin: join(dir, "in.txt"),
				stdout: "sub/out.txt",
			}),
		);
		expect(r.status).toBe(0);
		expect(readFileSync(join(dir, "out/sub/out.txt"), "utf8")).toBe(
			`from stdin\n${dir}/out|${dir}/tmp|none|it's me\n${dir}/out\n`,
		);
	});

	test("maps successCodes and permanentFailCodes and records the real exit code", () => {
		expect(run(script({ words: [word("sh"), word("-c"), word("exit 3")], successCodes: [3] })).status).toBe(0);
		expect(readFileSync(join(dir, "exit-code"), "utf8").trim()).toBe("3");
		expect(run(script({ words: [word("true")], permanentFailCodes: [0] })).status).toBe(1);
		expect(run(script({ words: [word("sh"), word("-c"), word("exit 7")] })).status).toBe(7);
		expect(run(script({ words: [word("sh"), word("-c"), word("exit 7")], temporaryFailCodes: [9] })).status).toBe(7);
		expect(readFileSync(join(dir, "exit-code"), "utf8").trim()).toBe("7");
	});

	test("stages links, copies and written files before the tool runs", () => {
		writeFileSync(join(dir, "source.txt"), "original");
		run(
			script({
				stage: [
					{ kind: "link", from: join(dir, "source.txt"), to: `${dir}/stg/1/renamed.txt` },
					{ kind: "copy", from: join(dir, "source.txt"), to: `${dir}/out/copy.txt` },
					{ kind: "write", to: `${dir}/out/conf/written.txt`, content: "a 'quoted' $HOME\nline" },
				],
				words: [word("true")],
			}),
		);
		expect(readlinkSync(`${dir}/stg/1/renamed.txt`)).toBe(join(dir, "source.txt"));
		expect(readFileSync(`${dir}/out/copy.txt`, "utf8")).toBe("original");
		expect(readFileSync(`${dir}/out/conf/written.txt`, "utf8")).toBe("a 'quoted' $HOME\nline");
	});

	test("each attempt starts from empty output, temporary and staging folders, removing links without following them", () => {
		const input = join(dir, "input");
		mkdirSync(input);
		writeFileSync(join(input, "data.txt"), "input");
		const job = script({
			stage: [{ kind: "link", from: input, to: `${dir}/out/input` }],
			words: [
				word("sh"),
				word("-c"),
				word("{ ls -A; echo /; ls -A $TMPDIR; } | tr '\\n' ' ' > ../listing; echo $$ > .hidden; touch f.txt $TMPDIR/t"),
			],
		});
		for (const [folder, name] of [
			["out", "partial.txt"],
			["out", "..odd"],
			["tmp", ".t"],
			["stg", "1"],
		] as const) {
			mkdirSync(join(dir, folder), { recursive: true });
			writeFileSync(join(dir, folder, name), "stale");
		}
		symlinkSync(join(dir, "nowhere"), join(dir, "stg/dangling"));
		expect(run(job).status).toBe(0);
		expect(readFileSync(join(dir, "listing"), "utf8")).toBe("input / ");
		expect(readdirSync(join(dir, "out")).sort()).toEqual([".hidden", "f.txt", "input"]);
		expect(existsSync(join(dir, "stg"))).toBe(false);
		// The second attempt: what the first left is gone; the input behind the link is untouched.
		expect(run(job).status).toBe(0);
		expect(readFileSync(join(dir, "listing"), "utf8")).toBe("input / ");
		expect(readdirSync(input)).toEqual(["data.txt"]);
		expect(readFileSync(join(input, "data.txt"), "utf8")).toBe("input");
		// Files beside the folders in the job folder (the exit code, the tool's own) stay.
		expect(existsSync(join(dir, "listing"))).toBe(true);
	});

	test("with ShellCommandRequirement, words marked unquoted reach the shell as they are", () => {
		run(script({ isShell: true, words: [word("echo"), word("a b"), word("> shell.txt", false)] }));
		expect(readFileSync(`${dir}/out/shell.txt`, "utf8")).toBe("a b\n");
	});

	test("the tool's environment is exactly PATH, HOME, TMPDIR and its own variables, through dash or bash", () => {
		const job = script({ env: { GREETING: "hi there" }, words: [word("env")], stdout: "env.txt" });
		const inherited = {
			PATH: process.env.PATH as string,
			SECRET: "leak",
			MULTI: "one\nexport SNEAKY=1\ntwo",
			PWD: "/elsewhere",
			orrery_dirty: "",
		};
		const seen = (shell: string, env: Record<string, string>) => {
			rmSync(`${dir}/out`, { recursive: true, force: true });
			const r = spawnSync(shell, ["-c", renderJobScript(job)], { encoding: "utf8", env });
			expect(r.status, r.stderr).toBe(0);
			return readFileSync(`${dir}/out/env.txt`, "utf8").trim().split("\n").sort();
		};
		const expected = [`GREETING=hi there`, `HOME=${dir}/out`, `PATH=${process.env.PATH}`, `TMPDIR=${dir}/tmp`];
		// dash clears with builtins; a variable named like the script's own falls back to env -i.
		expect(seen("/bin/sh", { ...inherited, orrery_dirty: undefined } as unknown as Record<string, string>)).toEqual(
			expected,
		);
		expect(seen("/bin/sh", inherited)).toEqual(expected);
		// A read-only variable cannot be unset: env -i takes over, and the failed unset prints nothing.
		rmSync(`${dir}/out`, { recursive: true, force: true });
		const ro = spawnSync("/bin/sh", ["-c", `readonly SECRET\n${renderJobScript(job)}`], {
			encoding: "utf8",
			env: { ...inherited, orrery_dirty: undefined } as unknown as Record<string, string>,
		});
		expect(ro.status, ro.stderr).toBe(0);
		expect(ro.stderr).toBe("");
		expect(readFileSync(`${dir}/out/env.txt`, "utf8").trim().split("\n").sort()).toEqual(expected);
		// The local launcher announces the names it passes on (ORRERY_ENV_NAMES) and the wrapper what it
		// adds: the script then unsets exactly those with builtins, no `export -p` (no fork).
		const wrapped = (env: Record<string, string>, announced: string) => {
			rmSync(`${dir}/out`, { recursive: true, force: true });
			const prefix = `orrery_inherited='${announced}' orrery_exported='REANA_WORKSPACE'\nexport REANA_WORKSPACE=/ws\ncd /tmp\n`;
			const r = spawnSync("/bin/sh", ["-c", prefix + renderJobScript(job)], { encoding: "utf8", env });
			expect(r.status, r.stderr).toBe(0);
			return readFileSync(`${dir}/out/env.txt`, "utf8").trim().split("\n").sort();
		};
		const launched = { PATH: process.env.PATH as string, SECRET: "leak", SHLVL: "2", _: "/bin/sh", PWD: "/x" };
		expect(wrapped({ ...launched, ORRERY_ENV_NAMES: "SECRET" }, "SECRET")).toEqual(expected);
		// An announcement that is not the one the wrapper was written for: `export -p` decides, as before.
		expect(wrapped({ ...launched, EXTRA: "x", ORRERY_ENV_NAMES: "OTHER" }, "SECRET")).toEqual(expected);
		// No announcement at all (a container's environment), even where the wrapper expects an empty one.
		expect(wrapped({ ...launched, EXTRA: "x" }, "")).toEqual(expected);
		// The announcement is trusted when it matches (it is the launcher's own): a name it leaves out stays,
		// which shows that the list, not `export -p`, was used.
		expect(wrapped({ ...launched, EXTRA: "x", ORRERY_ENV_NAMES: "SECRET" }, "SECRET")).toEqual(
			[...expected, "EXTRA=x"].sort(),
		);
		// bash (which can export functions export -p does not list) always takes env -i. (This machine's
		// bash may change PATH as it starts, so only the names are compared.)
		const names = (lines: string[]) => lines.map((l) => l.slice(0, l.indexOf("=")));
		expect(names(seen("/bin/bash", { ...inherited, "BASH_FUNC_f%%": "() { :; }" }))).toEqual(names(expected));
	});
});
