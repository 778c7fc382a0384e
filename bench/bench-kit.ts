// Small helpers shared by the benchmarks: timing, medians, tables, a server process.
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";

/** Milliseconds since an arbitrary origin, with sub-millisecond precision. */
export function now(): number {
	return performance.now();
}

/** The median of some numbers. */
export function median(values: number[]): number {
	const s = [...values].sort((a, b) => a - b);
	const mid = Math.floor(s.length / 2);
	return s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

/** A percentile (0–100) of some numbers, nearest-rank. */
export function percentile(values: number[], p: number): number {
	const s = [...values].sort((a, b) => a - b);
	return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))] as number;
}

/** Prints rows as a Markdown table (so the output can be pasted into docs/). */
export function printTable(title: string, headers: string[], rows: Array<Array<string | number>>): void {
	const cells = rows.map((r) => r.map((c) => (typeof c === "number" ? formatNumber(c) : c)));
	const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((r) => String(r[i] ?? "").length)));
	const line = (r: string[]) => `| ${r.map((c, i) => c.padEnd(widths[i] ?? 0)).join(" | ")} |`;
	console.log(`\n### ${title}\n`);
	console.log(line(headers));
	console.log(`|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`);
	for (const r of cells) console.log(line(r.map(String)));
}

function formatNumber(n: number): string {
	if (Number.isInteger(n)) return String(n);
	return Math.abs(n) >= 100 ? n.toFixed(0) : Math.abs(n) >= 10 ? n.toFixed(1) : n.toFixed(2);
}

/** Wall time of a shell command in milliseconds. */
export function timeShell(command: string): number {
	const t = now();
	const r = spawnSync("sh", ["-c", command], { stdio: "ignore" });
	if (r.status !== 0) throw new Error(`${command} exited ${r.status}`);
	return now() - t;
}

/** Peak resident set size (VmHWM) of a process in MiB, from /proc. */
export function peakRssMiB(pid: number): number {
	const status = readFileSync(`/proc/${pid}/status`, "utf8");
	const kb = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0);
	return kb / 1024;
}

/** A short description of this machine for the tables. */
export function machine(): string {
	const cpus = readFileSync("/proc/cpuinfo", "utf8").match(/^processor/gm)?.length ?? 0;
	return `${cpus} CPUs, Node ${process.version}`;
}

/** A user and an `orrery server` process on a random port (for benchmarks that need a separate server). */
export async function benchServer(
	bin: string,
	env: NodeJS.ProcessEnv,
	email: string,
): Promise<{ url: string; token: string; server: import("node:child_process").ChildProcess }> {
	const { spawn } = await import("node:child_process");
	const created = spawnSync(process.execPath, [bin, "admin", "create-user", "--email", email, "--json"], { env });
	const token = JSON.parse(created.stdout.toString()).token as string;
	const port = 5600 + Math.floor(Math.random() * 800);
	const server = spawn(process.execPath, [bin, "server", "--port", String(port)], { env, stdio: "ignore" });
	const url = `http://127.0.0.1:${port}`;
	for (let i = 0; i < 100; i++) {
		try {
			if ((await fetch(`${url}/api/ping`)).ok) break;
		} catch {
			await new Promise((r) => setTimeout(r, 100));
		}
	}
	return { url, token, server };
}
