// Creates runs through the public HTTP API, as `orrery run --no-follow` would.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { packageRoot } from "./orrery-process.js";

/** A minimal client of a test server: JSON calls with the token. */
export function apiOf(url: string, token: string) {
	return async function api<T = unknown>(method: string, path: string, body?: unknown): Promise<T> {
		const res = await fetch(`${url}${path}`, {
			method,
			headers: {
				authorization: `Bearer ${token}`,
				...(body === undefined ? {} : { "content-type": "application/json" }),
			},
			...(body === undefined ? {} : { body: JSON.stringify(body) }),
		});
		const text = await res.text();
		if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
		return JSON.parse(text) as T;
	};
}

/** Uploads one file's bytes into a run's workspace. */
export async function upload(url: string, token: string, run: string, name: string, data: Buffer | string) {
	const res = await fetch(`${url}/api/workflows/${run}/workspace?file_name=${encodeURIComponent(name)}`, {
		method: "POST",
		headers: { authorization: `Bearer ${token}`, "content-type": "application/octet-stream" },
		body: data,
	});
	if (!res.ok) throw new Error(`upload ${name}: ${res.status} ${await res.text()}`);
}

/** Creates the hello-world example (not started) with its inputs uploaded; returns the run's id. */
export async function createHelloWorld(url: string, token: string, sleeptime: number): Promise<string> {
	const dir = join(packageRoot, "examples/helloworld");
	const spec = parse(readFileSync(join(dir, "reana.yaml"), "utf8")) as {
		inputs: { files: string[]; parameters: Record<string, unknown> };
	};
	spec.inputs.parameters.sleeptime = sleeptime;
	const api = apiOf(url, token);
	const created = await api<{ workflow_id: string }>("POST", "/api/workflows?workflow_name=helloworld", spec);
	for (const f of spec.inputs.files) await upload(url, token, created.workflow_id, f, readFileSync(join(dir, f)));
	return created.workflow_id;
}

/** Creates and starts a two-step run: one step prints in colour, the next fails with exit code 3. */
export async function startColourfulFailure(url: string, token: string): Promise<string> {
	const api = apiOf(url, token);
	const spec = {
		version: "0.9.0",
		workflow: {
			type: "serial",
			specification: {
				steps: [
					{
						name: "paint",
						commands: [
							"printf '\\033[1;31mred alert\\033[0m then \\033[32mgreen\\033[0m\\n' && mkdir -p out && printf 'a,b\\n1,2\\n' > out/table.csv",
						],
					},
					{ name: "break", commands: ["echo 'about to fail' >&2; exit 3"] },
				],
			},
		},
	};
	const created = await api<{ workflow_id: string }>("POST", "/api/workflows?workflow_name=colours", spec);
	await api("POST", `/api/workflows/${created.workflow_id}/start`, {});
	return created.workflow_id;
}

/** Waits until a run reaches a final state; returns it. */
export async function waitForEnd(url: string, token: string, run: string, timeoutMs = 60_000): Promise<string> {
	const api = apiOf(url, token);
	const deadline = Date.now() + timeoutMs;
	for (;;) {
		const s = await api<{ status: string }>("GET", `/api/workflows/${run}/status`);
		if (["finished", "failed", "stopped", "deleted"].includes(s.status)) return s.status;
		if (Date.now() > deadline) throw new Error(`run ${run} still ${s.status} after ${timeoutMs} ms`);
		await new Promise((r) => setTimeout(r, 250));
	}
}

/** A small FITS file: a 16-bit 4 × 3 primary image of M 31 and an EVENTS binary table with 2 columns × 5 rows. */
export function sampleFits(): Buffer {
	const card = (key: string, value: string) => `${key.padEnd(8)}= ${value.padStart(20)}`;
	const hdu = (cards: string[], dataBytes: number) => {
		const text = [...cards, "END"].map((c) => c.padEnd(80)).join("");
		const header = Buffer.from(text.padEnd(Math.ceil(text.length / 2880) * 2880), "ascii");
		return Buffer.concat([header, Buffer.alloc(Math.ceil(dataBytes / 2880) * 2880)]);
	};
	return Buffer.concat([
		hdu(
			[
				card("SIMPLE", "T"),
				card("BITPIX", "16"),
				card("NAXIS", "2"),
				card("NAXIS1", "4"),
				card("NAXIS2", "3"),
				card("OBJECT", "'M 31'"),
				card("TELESCOP", "'AIP 70cm'"),
			],
			4 * 3 * 2,
		),
		hdu(
			[
				card("XTENSION", "'BINTABLE'"),
				card("BITPIX", "8"),
				card("NAXIS", "2"),
				card("NAXIS1", "8"),
				card("NAXIS2", "5"),
				card("PCOUNT", "0"),
				card("GCOUNT", "1"),
				card("TFIELDS", "2"),
				card("EXTNAME", "'EVENTS'"),
			],
			8 * 5,
		),
	]);
}
