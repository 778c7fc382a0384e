import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { runsJupyterTests } from "../support/jupyter.js";
import { chromiumPath, launchChromium } from "./chromium.js";
import { createUser, type OrreryProcess, packageRoot, startOrrery } from "./orrery-process.js";
import { apiOf, createHelloWorld, sampleFits, startColourfulFailure, upload, waitForEnd } from "./run-setup.js";

const shots = join(packageRoot, "test-output/web");
const builtUi = join(packageRoot, "dist/web/index.html");

// Debian's Chromium (`apt-get install chromium`), which .ci/run installs. Elsewhere the browser tests
// skip, saying why; under CI=true a missing browser fails the run instead.
const hasChromium = existsSync(chromiumPath);
if (!hasChromium && process.env.CI)
	throw new Error(`CI must run the browser tests: ${chromiumPath} is missing (apt-get install chromium)`);

describe.skipIf(!hasChromium)(
	"web UI in headless Chromium against a real orrery server (needs Debian's chromium)",
	() => {
		let server: OrreryProcess;
		let browser: Awaited<ReturnType<typeof launchChromium>>;
		let page: Page;
		let helloId: string;
		let bob: { id: string; token: string };
		const problems: string[] = [];
		const shot = (name: string) => page.screenshot({ path: join(shots, `${name}.png`), fullPage: true });

		beforeAll(async () => {
			if (!existsSync(builtUi)) throw new Error(`the UI is not built (${builtUi} is missing): run npm run build first`);
			mkdirSync(shots, { recursive: true });
			server = await startOrrery({ email: "ada@example.org" });
			browser = await launchChromium();
			page = browser.context.pages()[0] ?? (await browser.context.newPage());
			page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
			page.on("console", (m) => {
				if (m.type() === "error" && /Refused to|Content Security Policy/i.test(m.text())) problems.push(m.text());
			});
		}, 60_000);

		afterEach(async (context) => {
			if (context.task.result?.state === "fail")
				await shot(`failed-${context.task.name.slice(0, 40).replace(/\W+/g, "-")}`);
		});

		afterAll(async () => {
			await browser?.close();
			await server?.stop();
		});

		it("asks for an access token, refuses a wrong one and signs in with the right one", async () => {
			await page.goto(`${server.url}/`);
			await page.getByRole("heading", { name: "Sign in to Orrery" }).waitFor();
			await page.getByLabel("Access token").waitFor();
			expect(await page.getByRole("button", { name: /institution/ }).count()).toBe(0); // no OIDC on this server
			await page.getByLabel("Access token").fill("orr_not-a-real-token");
			await page.getByRole("button", { name: "Sign in" }).click();
			await page.getByRole("alert").filter({ hasText: "not accepted" }).waitFor();
			await shot("01-sign-in-refused");
			await page.getByLabel("Access token").fill(server.token);
			await page.getByRole("button", { name: "Sign in" }).click();
			await page.getByRole("heading", { name: "Runs", level: 1 }).waitFor();
			await page.getByText("ada@example.org").waitFor();
			await page.getByText("No runs yet").waitFor();
			expect(await page.evaluate<string[]>("Object.keys(sessionStorage)")).toContain("orrery.access-token");
		});

		it("starts the hello-world example, tails its job log live and shows it finish", async () => {
			helloId = await createHelloWorld(server.url, server.token, 1.5);
			await page.locator(`tr[data-run-id="${helloId}"]`).waitFor(); // the list refreshes by itself
			await shot("02-runs-created");
			await page.getByRole("link", { name: "helloworld.1" }).click();
			await page.getByRole("heading", { name: "helloworld.1", level: 1 }).waitFor();
			await page.getByRole("button", { name: "Start" }).click();
			await page
				.locator('[data-testid="run-status"]')
				.getByText(/queued|pending|running/)
				.waitFor();
			await page.getByRole("tab", { name: "Jobs and logs" }).click();
			const log = page.getByRole("log");
			await log.getByText("[1/4] Hello Jane Doe!").waitFor({ timeout: 30_000 });
			// The first greeting is on screen while the job is still running: the log is tailed, not fetched at the end.
			expect(await page.locator("article").getAttribute("data-run-status")).toBe("running");
			await page.getByText("Following live").waitFor();
			await shot("03-job-log-live");
			await page.locator('[data-testid="run-status"]').getByText("finished").waitFor({ timeout: 30_000 });
			await log.getByText("wrote 4 greetings to results/greetings.txt").waitFor();
			await page.getByText("End of log").waitFor();
			await shot("04-run-finished-log");
		});

		it("shows the run's steps as a DAG, its jobs on a timeline and its events", async () => {
			await page.getByRole("tab", { name: "Overview" }).click();
			const node = page.locator('[data-step="greet"]');
			expect(await node.getAttribute("data-status")).toBe("finished");
			await page.locator(".timeline-row").first().waitFor();
			expect(await page.locator(".timeline-row").count()).toBe(1);
			await page
				.getByTestId("events")
				.getByText(/finished/)
				.first()
				.waitFor();
			await shot("05-run-overview");
			await node.focus();
			await page.keyboard.press("Enter"); // the DAG is usable from the keyboard
			await page.getByRole("tab", { name: "Jobs and logs", selected: true }).waitFor();
		});

		it.skipIf(!runsJupyterTests)(
			"opens a notebook on the run's workspace from its page: a real Jupyter, through the server (needs Debian's jupyter-notebook)",
			async () => {
				await page.getByRole("button", { name: "Notebook" }).click();
				const link = page.getByRole("link", { name: /Open the notebook/ });
				await link.waitFor({ timeout: 60_000 });
				const [tab] = await Promise.all([browser.context.waitForEvent("page"), link.click()]);
				// The session's cookie (set when the page opened it) lets the browser in; Jupyter lists the workspace.
				await tab.getByRole("link", { name: "results" }).first().waitFor({ timeout: 30_000 });
				expect(await tab.title()).toMatch(/Home Page/);
				expect(new URL(tab.url()).pathname).toMatch(/^\/sessions\/[0-9a-f-]{36}\/tree/);
				await tab.screenshot({ path: join(shots, "05b-notebook.png") });
				await tab.close();
				await page.getByRole("button", { name: "Close notebook" }).click();
				await page.getByRole("button", { name: "Notebook" }).waitFor();
			},
			120_000,
		);

		it("previews a workspace file and downloads it", async () => {
			await page.getByRole("tab", { name: "Files" }).click();
			await page.getByRole("button", { name: "results/" }).click();
			await page.getByRole("button", { name: "greetings.txt", exact: true }).click();
			await page.getByTestId("file-preview").getByText("Hello Ada Lovelace!").waitFor();
			await shot("06-file-preview");
			const [download] = await Promise.all([
				page.waitForEvent("download"),
				page.getByRole("button", { name: "Download results/greetings.txt" }).click(),
			]);
			expect(download.suggestedFilename()).toBe("greetings.txt");
			const saved = join(shots, "downloaded-greetings.txt");
			await download.saveAs(saved);
			const fromApi = await fetch(`${server.url}/api/workflows/${helloId}/workspace/results/greetings.txt`, {
				headers: { authorization: `Bearer ${server.token}` },
			}).then((r) => r.text());
			expect(readFileSync(saved, "utf8")).toBe(fromApi);
			expect(fromApi).toContain("Hello Edwin Hubble!");
		});

		it("downloads the run's provenance as an RO-Crate from its overview", async () => {
			await page.getByRole("tab", { name: "Overview" }).click();
			const [download] = await Promise.all([
				page.waitForEvent("download"),
				page.getByRole("button", { name: "Download provenance (RO-Crate)" }).click(),
			]);
			expect(download.suggestedFilename()).toBe("helloworld.1-ro-crate-metadata.json");
			const saved = join(shots, "downloaded-ro-crate-metadata.json");
			await download.saveAs(saved);
			const crate = JSON.parse(readFileSync(saved, "utf8")) as { "@graph": Array<Record<string, unknown>> };
			const greetings = crate["@graph"].find((e) => e["@id"] === "results/greetings.txt");
			const text = readFileSync(join(shots, "downloaded-greetings.txt"));
			const { createHash } = await import("node:crypto");
			expect(greetings?.sha256).toBe(createHash("sha256").update(text).digest("hex"));
			expect(crate["@graph"].some((e) => e["@type"] === "CreateAction" && e.name === "greet")).toBe(true);
		});

		it("previews FITS headers, images and JSON", async () => {
			await upload(server.url, server.token, helloId, "results/sky.fits", sampleFits());
			await upload(server.url, server.token, helloId, "results/plot.png", await page.screenshot());
			await upload(server.url, server.token, helloId, "results/summary.json", '{"greetings":4,"names":["Jane","Ada"]}');
			await page.goto(`${server.url}/runs/${helloId}?tab=files&dir=results&file=results/sky.fits`);
			const fits = page.getByTestId("fits-summary");
			await fits.getByText("Primary: 16-bit integer, 4 × 3").waitFor();
			await fits.getByText('BINTABLE "EVENTS": table, 2 columns × 5 rows').waitFor();
			await fits.locator("dd").getByText("M 31").waitFor();
			await shot("07-fits-summary");
			await page.getByRole("button", { name: "plot.png", exact: true }).click();
			const img = page.getByRole("img", { name: "Preview of results/plot.png" });
			await img.waitFor();
			await expect
				.poll(() => img.evaluate((el) => (el as unknown as { naturalWidth: number }).naturalWidth))
				.toBeGreaterThan(0);
			await page.getByRole("button", { name: "summary.json", exact: true }).click();
			await page.getByTestId("file-preview").getByText('"greetings": 4,').waitFor();
		});

		it("renders ANSI colours, explains a failed step and previews CSV as a table", async () => {
			const id = await startColourfulFailure(server.url, server.token);
			expect(await waitForEnd(server.url, server.token, id)).toBe("failed");
			await page.goto(`${server.url}/runs/${id}?tab=jobs`);
			await page.getByRole("heading", { name: "colours.1", level: 1 }).waitFor();
			await page.locator(".run-message").waitFor();
			expect(await page.locator(".run-message").textContent()).toMatch(/break/);
			await page.getByRole("button", { name: "Log of paint s0.c0" }).click();
			const red = page.getByRole("log").locator(".ansi-fg-1.ansi-bold");
			await red.getByText("red alert").waitFor();
			expect(await page.getByRole("log").locator(".ansi-fg-2").textContent()).toBe("green");
			expect(await page.getByRole("log").textContent()).not.toContain("\u001b");
			await shot("08-ansi-log");
			await page.getByRole("button", { name: "Log of break s1.c0" }).click();
			await page.getByText("stderr", { exact: true }).click();
			await page.getByRole("log").getByText("about to fail").waitFor();
			await page.getByRole("tab", { name: "Overview" }).click();
			expect(await page.locator('[data-step="break"]').getAttribute("data-status")).toBe("failed");
			expect(await page.locator('[data-step="paint"]').getAttribute("data-status")).toBe("finished");
			await page.getByRole("tab", { name: "Files" }).click();
			await page.getByRole("button", { name: "out/" }).click();
			await page.getByRole("button", { name: "table.csv", exact: true }).click();
			await page.getByTestId("file-preview").getByRole("columnheader", { name: "b" }).waitFor();
			await shot("09-failed-run");
		});

		it("refreshes the runs list in place, without shifting the layout", async () => {
			await page.goto(`${server.url}/runs`);
			await page.locator("tr[data-run-id]").nth(1).waitFor();
			const refreshed = page.waitForResponse((r) => r.url().includes("/api/workflows?"), { timeout: 15_000 });
			// The Layout Instability API adds up every unexpected shift while the list refreshes by itself.
			const shift = page.evaluate<number>(`new Promise((done) => {
			let total = 0;
			new PerformanceObserver((list) => {
				for (const e of list.getEntries()) if (!e.hadRecentInput) total += e.value;
			}).observe({ type: "layout-shift" });
			setTimeout(() => done(total), 6000);
		})`);
			await refreshed;
			// Sub-pixel rounding can register a shift of about 1e-4; a visible jump is orders of magnitude more
			// (0.1 is the threshold of a "good" page), so anything under 0.001 counts as none.
			expect(await shift).toBeLessThan(0.001);
		});

		it("searches runs by name and filters them by status, server-side", async () => {
			await page.locator("tr[data-run-id]").nth(1).waitFor();
			await page.getByLabel("Status").selectOption("failed");
			await page.waitForURL(/status=failed/);
			await expect.poll(() => page.locator("tr[data-run-id]").count()).toBe(1);
			expect(await page.locator("tr[data-run-id]").first().textContent()).toContain("colours.1");
			await page.getByLabel("Status").selectOption("");
			await page.getByLabel("Name contains").fill("hello");
			await page.waitForURL(/q=hello/);
			await expect.poll(() => page.locator("tr[data-run-id]").count()).toBe(1);
			expect(await page.locator("tr[data-run-id]").first().textContent()).toContain("helloworld.1");
			await shot("10-runs-filtered");
		});

		it("shows the specification as YAML and the parameters with where they come from", async () => {
			await page.goto(`${server.url}/runs/${helloId}?tab=spec`);
			await page.getByTestId("yaml").getByText("python3", { exact: false }).waitFor();
			expect(await page.getByRole("row", { name: /sleeptime/ }).textContent()).toContain("1.5");
			await shot("11-specification");
		});

		it("creates a token whose value is shown once, lists it and revokes it", async () => {
			await page.getByRole("link", { name: "Tokens" }).click();
			await page.getByRole("heading", { name: "Access tokens", level: 1 }).waitFor();
			const current = page.getByTestId("current-token");
			await current.getByText(server.token.slice(0, 8)).waitFor();
			await current.getByText("active").waitFor();
			await page.getByLabel("Name").fill("ci pipeline");
			await page.getByRole("checkbox", { name: /^write/ }).uncheck();
			await page.getByRole("checkbox", { name: /^run/ }).uncheck();
			await page.getByLabel("Expires after").selectOption("30");
			await page.getByRole("button", { name: "Create token" }).click();
			const value = await page.getByRole("textbox", { name: "The new token" }).inputValue();
			expect(value).toMatch(/^orr_/);
			await shot("12-token-created");
			const asCi = apiOf(server.url, value);
			expect((await asCi<{ email: string }>("GET", "/api/you")).email).toBe("ada@example.org");
			await page.getByRole("button", { name: "Done" }).click();
			expect(await page.getByTestId("new-token").count()).toBe(0); // the value is gone from the page
			const row = page.locator("tr", { hasText: "ci pipeline" });
			expect(await row.textContent()).toContain("read");
			await row.getByRole("button", { name: /^Revoke ci pipeline/ }).click();
			await row.getByRole("button", { name: "Revoke", exact: true }).click();
			await row.getByText("revoked").waitFor();
			await expect(asCi("GET", "/api/you")).rejects.toThrow(/403/);
			await shot("13-token-revoked");
		});

		it("shares a run read-only and with run rights, and stops sharing", async () => {
			bob = await createUser(server.env, "bob@example.org");
			await createUser(server.env, "carol@example.org");
			await page.goto(`${server.url}/runs/${helloId}?tab=sharing`);
			await page.getByTestId("shared-with").getByText("Nobody").waitFor();
			await page.getByLabel("Email").fill("bob@example.org");
			await page.getByRole("button", { name: "Share", exact: true }).click();
			await page.getByTestId("shared-with").getByRole("rowheader", { name: "bob@example.org" }).waitFor();
			await page.getByLabel("Email").fill("carol@example.org");
			await page.getByLabel("Permission").selectOption("run");
			await page.getByRole("button", { name: "Share", exact: true }).click();
			const carol = page.getByTestId("shared-with").getByRole("row", { name: /carol@example.org/ });
			expect(await carol.textContent()).toContain("run");
			await shot("14-sharing");
			await page.getByRole("button", { name: "Stop sharing with carol@example.org" }).click();
			await expect.poll(() => carol.count()).toBe(0);
			// Groups come from the identity provider: an unknown one is refused with the server's explanation.
			await page.getByLabel("Share with").selectOption("group");
			await page.getByLabel("Group name").fill("astro");
			await page.getByRole("button", { name: "Share", exact: true }).click();
			await page.getByRole("alert").filter({ hasText: "astro" }).waitFor();
			const asBob = apiOf(server.url, bob.token);
			const shared = await asBob<{ items: { id: string }[] }>("GET", "/api/workflows?shared_with_me=true");
			expect(shared.items.map((r) => r.id)).toEqual([helloId]);
		});

		it("shows CPU and disk usage against the limits an administrator set", async () => {
			const admin = await createUser(server.env, "root@example.org", { isAdmin: true });
			await apiOf(server.url, admin.token)("POST", "/api/quota", {
				email: "ada@example.org",
				resource_type: "disk",
				limit: 10 * 1024 * 1024,
			});
			await page.getByRole("link", { name: "Quota" }).click();
			const disk = page.getByTestId("quota-disk");
			await disk.getByText(/of 10(\.0)? MiB/).waitFor();
			expect(await disk.getByRole("meter").count()).toBe(1);
			await page.getByTestId("quota-cpu").getByText("no limit set").waitFor();
			await shot("15-quota");
		});

		it("signs out, and shows the person a run was shared with it under 'shared with me'", async () => {
			await page.getByRole("button", { name: "Sign out" }).click();
			await page.getByLabel("Access token").waitFor();
			expect(await page.evaluate<string | null>('sessionStorage.getItem("orrery.access-token")')).toBeNull();
			const api = apiOf(server.url, server.token);
			expect((await api<{ total: number }>("GET", "/api/workflows")).total).toBe(2); // a token outlives a sign-out
			await page.getByLabel("Access token").fill(bob.token);
			await page.getByRole("button", { name: "Sign in" }).click();
			await page.getByText("bob@example.org").waitFor();
			await page.getByRole("navigation", { name: "Sections" }).getByRole("link", { name: "Runs" }).click();
			await page.getByText("No runs yet").waitFor();
			await page.getByLabel("Whose").selectOption("shared");
			const row = page.locator(`tr[data-run-id="${helloId}"]`);
			await row.getByText("ada@example.org").waitFor();
			await shot("16-shared-with-me");
			await row.getByRole("link", { name: "helloworld.1" }).click();
			await page.getByRole("tab", { name: "Sharing" }).click();
			await page.getByText("Only the owner of a run can share it.").waitFor();
			await page.getByRole("button", { name: "Sign out" }).click();
			await page.getByLabel("Access token").waitFor();
		});

		it("caused no page errors and no Content-Security-Policy violations", () => {
			expect(problems).toEqual([]);
		});
	},
);

describe("static UI serving", () => {
	let server: OrreryProcess;
	beforeAll(async () => {
		server = await startOrrery();
	}, 60_000);
	afterAll(async () => server?.stop());

	it("caches fingerprinted assets for a year, revalidates pages and falls back to index.html", async () => {
		const page = await fetch(`${server.url}/runs/some-run?tab=files`, { headers: { accept: "text/html" } });
		expect(page.status).toBe(200);
		expect(page.headers.get("cache-control")).toBe("no-cache");
		expect(page.headers.get("content-security-policy")).toContain("default-src 'self'");
		const html = await page.text();
		const asset = /src="(\/assets\/[^"]+\.js)"/.exec(html)?.[1];
		expect(asset).toBeDefined();
		const js = await fetch(`${server.url}${asset}`, { headers: { "accept-encoding": "gzip" } });
		expect(js.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
		expect(js.headers.get("content-type")).toContain("text/javascript");
		const again = await fetch(`${server.url}${asset}`, {
			headers: { "accept-encoding": "gzip", "if-none-match": js.headers.get("etag") ?? "" },
		});
		expect(again.status).toBe(304);
	});

	it("leaves unknown /api paths and missing assets to the API's JSON 404", async () => {
		for (const path of ["/api/no-such-thing", "/assets/missing.js"]) {
			const res = await fetch(`${server.url}${path}`, { headers: { accept: "text/html" } });
			expect(res.status).toBe(404);
			expect(((await res.json()) as { code: string }).code).toBe("not_found");
		}
		const ping = await fetch(`${server.url}/api/ping`);
		expect(ping.status).toBe(200);
	});
});
