// Runs the CWL v1.2 conformance tests through `orrery cwl-runner` against one Orrery server.
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseCwlText } from "../../src/spec/index.js";
import { compareOutputs } from "./cwl-output-compare.js";

/** The repository root (found upwards, so this also works when compiled elsewhere). */
export const repoRoot = findRoot(dirname(fileURLToPath(import.meta.url)));

function findRoot(start: string): string {
	for (let dir = start; ; dir = dirname(dir)) {
		if (existsSync(join(dir, "bin/orrery.js"))) return dir;
		if (dirname(dir) === dir) return resolve(start, "../..");
	}
}
/** The conformance suite of CWL v1.2 shared with this project. */
export const suiteFile =
	process.env.CWL_CONFORMANCE_TESTS ?? resolve(repoRoot, "../shared/cwl-v1.2/conformance_tests.yaml");

/** One conformance test, with its paths made absolute. */
export interface ConformanceTest {
	id: string;
	doc: string;
	tool: string;
	job?: string;
	output?: unknown;
	shouldFail: boolean;
	tags: string[];
}

/** The outcome of one test. */
export interface TestResult {
	test: ConformanceTest;
	status: "pass" | "fail" | "unsupported";
	seconds: number;
	reason?: string;
}

/** Reads the suite, following its `$import`s of other test lists. */
export async function loadConformanceTests(file = suiteFile): Promise<ConformanceTest[]> {
	const entries = parseCwlText(await readFile(file, "utf8"), file) as Array<Record<string, unknown>>;
	const out: ConformanceTest[] = [];
	for (const e of entries) {
		if (typeof e.$import === "string") {
			out.push(...(await loadConformanceTests(resolve(dirname(file), e.$import))));
			continue;
		}
		let output = e.output;
		const imported = (output as { $import?: unknown } | undefined)?.$import;
		if (typeof imported === "string")
			output = parseCwlText(await readFile(resolve(dirname(file), imported), "utf8"), imported);
		const test: ConformanceTest = {
			id: String(e.id ?? e.label ?? ""),
			doc: String(e.doc ?? "").trim(),
			tool: resolve(dirname(file), String(e.tool)),
			output,
			shouldFail: e.should_fail === true,
			tags: Array.isArray(e.tags) ? e.tags.map(String) : [],
		};
		if (typeof e.job === "string") test.job = resolve(dirname(file), e.job);
		out.push(test);
	}
	return out;
}

/** An Orrery server started for a conformance run, and how to reach it. */
export interface ConformanceServer {
	url: string;
	token: string;
	home: string;
	stop(): Promise<void>;
}

function orrery(args: string[], env: NodeJS.ProcessEnv): ChildProcess {
	return spawn(process.execPath, [join(repoRoot, "bin/orrery.js"), ...args], {
		env,
		stdio: ["ignore", "pipe", "pipe"],
	});
}

async function output(
	child: ChildProcess,
	timeoutMs: number,
): Promise<{ code: number | null; stdout: string; stderr: string; isTimedOut: boolean }> {
	let stdout = "";
	let stderr = "";
	child.stdout?.on("data", (d: Buffer) => {
		stdout += d.toString();
	});
	child.stderr?.on("data", (d: Buffer) => {
		stderr += d.toString();
	});
	let isTimedOut = false;
	const timer = setTimeout(() => {
		isTimedOut = true;
		child.kill("SIGKILL");
	}, timeoutMs);
	const code = await new Promise<number | null>((done) => child.on("close", (c) => done(c)));
	clearTimeout(timer);
	return { code, stdout, stderr, isTimedOut };
}

/** Starts `orrery server` on a free port with its own home folder and a user token. */
export async function startConformanceServer(): Promise<ConformanceServer> {
	const home = await mkdtemp(join(tmpdir(), "orrery-cwl-conformance-"));
	const env = { ...process.env, ORRERY_HOME: home, ORRERY_LOG_LEVEL: "warn" };
	const user = await output(
		orrery(["admin", "create-user", "--email", "conformance@localhost", "--json"], env),
		60_000,
	);
	if (user.code !== 0) throw new Error(`orrery admin create-user failed: ${user.stderr}`);
	const token = (JSON.parse(user.stdout) as { token: string }).token;
	const server = orrery(["server", "--port", "0"], env);
	let log = "";
	const url = await new Promise<string>((done, fail) => {
		const timer = setTimeout(() => fail(new Error(`orrery server did not start: ${log}`)), 60_000);
		server.stderr?.on("data", (d: Buffer) => {
			log += d.toString();
			const m = /listening on (http:\/\/\S+)/.exec(log);
			if (m) {
				clearTimeout(timer);
				done(m[1] as string);
			}
		});
		server.on("exit", (code) => fail(new Error(`orrery server exited with ${code}: ${log}`)));
	});
	return {
		url,
		token,
		home,
		async stop() {
			server.kill("SIGTERM");
			await new Promise((r) => server.once("exit", r));
			await rm(home, { recursive: true, force: true }).catch(() => undefined);
		},
	};
}

/** Runs one test through `orrery cwl-runner` and judges it as cwltest does. */
export async function runConformanceTest(
	test: ConformanceTest,
	server: ConformanceServer,
	timeoutMs = 180_000,
): Promise<TestResult> {
	const started = performance.now();
	const outdir = await mkdtemp(join(tmpdir(), "orrery-cwl-out-"));
	const env = {
		...process.env,
		ORRERY_SERVER_URL: server.url,
		ORRERY_ACCESS_TOKEN: server.token,
		ORRERY_HOME: server.home,
	};
	const args = [
		"cwl-runner",
		"--quiet",
		"--outdir",
		outdir,
		"--name",
		`t-${test.id}`.slice(0, 90),
		test.tool,
		...(test.job ? [test.job] : []),
	];
	const r = await output(orrery(args, env), timeoutMs);
	await rm(outdir, { recursive: true, force: true }).catch(() => undefined);
	const seconds = (performance.now() - started) / 1000;
	const tail = r.stderr.trim().split("\n").slice(-6).join("\n");
	const isRequired = test.tags.includes("required");
	if (r.isTimedOut) return { test, status: "fail", seconds, reason: `timed out after ${timeoutMs / 1000} s` };
	if (r.code === 33 && !isRequired) return { test, status: "unsupported", seconds, reason: tail };
	if (test.shouldFail) {
		return r.code === 0
			? { test, status: "fail", seconds, reason: "succeeded, but the test expects a failure" }
			: { test, status: "pass", seconds };
	}
	if (r.code !== 0) return { test, status: "fail", seconds, reason: `exit code ${r.code}: ${tail}` };
	let actual: unknown;
	try {
		actual = JSON.parse(r.stdout);
	} catch {
		return { test, status: "fail", seconds, reason: `the output is not JSON: ${r.stdout.slice(0, 200)}` };
	}
	const diff = compareOutputs(test.output ?? {}, actual);
	return diff ? { test, status: "fail", seconds, reason: diff } : { test, status: "pass", seconds };
}

/** Runs tests with at most `parallel` at a time, reporting each result as it comes. */
export async function runConformanceTests(
	tests: readonly ConformanceTest[],
	server: ConformanceServer,
	parallel: number,
	onResult: (r: TestResult) => void = () => undefined,
): Promise<TestResult[]> {
	const results: TestResult[] = [];
	const queue = [...tests];
	const worker = async () => {
		for (let t = queue.shift(); t; t = queue.shift()) {
			const r = await runConformanceTest(t, server);
			results.push(r);
			onResult(r);
		}
	};
	await Promise.all(Array.from({ length: Math.max(1, parallel) }, worker));
	const order = new Map(tests.map((t, i) => [t.id, i]));
	return results.sort((a, b) => (order.get(a.test.id) ?? 0) - (order.get(b.test.id) ?? 0));
}
