import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { addS3Secrets, type S3Service, s3Service } from "../support/staging-services.js";
import { startTestServer, type TestServer, waitForStatus } from "../support/test-server.js";

const tool = `cwlVersion: v1.2
class: CommandLineTool
baseCommand: cat
inputs:
  infile: {type: File, inputBinding: {position: 1}}
  extra: {type: Directory, inputBinding: {position: 2, valueFrom: $(self.path)/b.txt}}
outputs:
  out: stdout
stdout: joined.txt
`;

describe("CWL File and Directory locations on S3", () => {
	let t: TestServer;
	let s3: S3Service;
	let token: string;
	const prefix = `cwl-${randomBytes(4).toString("hex")}`;

	beforeAll(async () => {
		s3 = s3Service();
		await s3.put(`${prefix}/a.txt`, "from a\n");
		await s3.put(`${prefix}/folder/b.txt`, "from b\n");
		t = await startTestServer("sqlite", {
			env: { ORRERY_S3_ENDPOINT: s3.endpoint, ORRERY_STAGING_ALLOW_PRIVATE: "127.0.0.1" },
		});
		token = (await t.user("cwl@example.org")).token;
		await addS3Secrets(t, token, s3);
	});
	afterAll(async () => t?.close());

	it("stages s3:// inputs before the tool runs and hands the engine the staged copies", async () => {
		const spec = {
			inputs: {
				parameters: {
					infile: { class: "File", location: `s3://${s3.bucket}/${prefix}/a.txt` },
					extra: { class: "Directory", location: `s3://${s3.bucket}/${prefix}/folder` },
				},
			},
			outputs: { files: ["joined.txt"] },
			workflow: { type: "cwl", file: "cat.cwl" },
		};
		const created = await t.call("POST", "/api/workflows?workflow_name=cwl-remote", { token, body: spec });
		expect(created.status, await created.clone().text()).toBe(201);
		await t.call("POST", "/api/workflows/cwl-remote/workspace?file_name=cat.cwl", {
			token,
			raw: tool,
		});
		const started = await t.call("POST", "/api/workflows/cwl-remote/start", { token, body: {} });
		expect(started.status, await started.clone().text()).toBe(200);
		const status = (await waitForStatus(t, token, "cwl-remote")) as { status: string; message: string };
		expect(status.status, status.message).toBe("finished");
		const outputs = (await (await t.call("GET", "/api/workflows/cwl-remote/outputs", { token })).json()) as {
			outputs: { out: { location: string } };
		};
		const out = await (
			await t.call("GET", `/api/workflows/cwl-remote/workspace/${outputs.outputs.out.location}`, { token })
		).text();
		expect(out).toBe("from a\nfrom b\n");
		const ls = (await (await t.call("GET", "/api/workflows/cwl-remote/workspace", { token })).json()) as {
			items: Array<{ name: string }>;
		};
		expect(ls.items.map((i) => i.name)).toContain(`.staged/s3/${s3.bucket}/${prefix}/a.txt`);
	});
});
