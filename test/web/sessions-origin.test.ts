// The web UI opens a notebook served at the sessions' own origin (ORRERY_SESSIONS_URL): a real `orrery
// server` answering http://127.0.0.1:PORT (the UI) and http://localhost:PORT (sessions), a real Jupyter,
// and Debian's Chromium. The notebook's page must not reach the UI's token, nor the API.
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runsJupyterTests } from "../support/jupyter.js";
import { chromiumPath, launchChromium } from "./chromium.js";
import { type OrreryProcess, packageRoot, startOrrery } from "./orrery-process.js";
import { createHelloWorld } from "./run-setup.js";

const shots = join(packageRoot, "test-output/web");
const builtUi = join(packageRoot, "dist/web/index.html");
const hasChromium = existsSync(chromiumPath);
if (!hasChromium && process.env.CI)
	throw new Error(`CI must run the browser tests: ${chromiumPath} is missing (apt-get install chromium)`);

describe.skipIf(!hasChromium || !runsJupyterTests)(
	"a notebook at the sessions' own origin, opened from the web UI in headless Chromium (needs chromium and jupyter-notebook)",
	() => {
		let server: OrreryProcess;
		let browser: Awaited<ReturnType<typeof launchChromium>>;
		let page: Page;
		let sessionsOrigin: string;
		const problems: string[] = [];

		beforeAll(async () => {
			if (!existsSync(builtUi)) throw new Error(`the UI is not built (${builtUi} is missing): run npm run build first`);
			mkdirSync(shots, { recursive: true });
			server = await startOrrery({
				email: "ada@example.org",
				settings: (port) => ({ ORRERY_SESSIONS_URL: `http://localhost:${port}` }),
			});
			sessionsOrigin = server.url.replace("127.0.0.1", "localhost");
			browser = await launchChromium();
			page = browser.context.pages()[0] ?? (await browser.context.newPage());
			page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
		}, 60_000);

		afterAll(async () => {
			await browser?.close();
			await server?.stop();
		});

		it("opens the notebook in a tab of another origin that holds neither the UI's token nor a way to the API", async () => {
			const runId = await createHelloWorld(server.url, server.token, 0.5);
			await page.goto(`${server.url}/`);
			await page.getByLabel("Access token").fill(server.token);
			await page.getByRole("button", { name: "Sign in" }).click();
			await page.getByRole("heading", { name: "Runs", level: 1 }).waitFor();
			await page.goto(`${server.url}/runs/${runId}`);
			await page.getByRole("button", { name: "Notebook" }).click();
			const link = page.getByRole("link", { name: /Open the notebook/ });
			await link.waitFor({ timeout: 60_000 });
			const [tab] = await Promise.all([browser.context.waitForEvent("page"), link.click()]);
			// The ticket let the browser in; Jupyter lists the workspace.
			await tab.getByRole("link", { name: "data" }).first().waitFor({ timeout: 30_000 });
			await tab.screenshot({ path: join(shots, "sessions-origin-notebook.png") });
			const notebook = new URL(tab.url());
			expect(notebook.origin).toBe(sessionsOrigin);
			expect(notebook.origin).not.toBe(new URL(page.url()).origin);
			expect(notebook.pathname).toMatch(/^\/sessions\/[0-9a-f-]{36}\/tree/);
			expect(notebook.search).not.toContain("ticket");

			// The UI's tab keeps its token in its own sessionStorage; the notebook's page has none of it.
			expect(await page.evaluate<string | null>('sessionStorage.getItem("orrery.access-token")')).toBe(server.token);
			const storage = await tab.evaluate<string>("JSON.stringify(Object.entries(sessionStorage))");
			expect(storage).not.toContain(server.token);
			expect(await tab.evaluate<string | null>('sessionStorage.getItem("orrery.access-token")')).toBeNull();
			expect(await tab.evaluate<string>("JSON.stringify(Object.entries(localStorage))")).not.toContain(server.token);
			// Its cookie is HttpOnly (scripts do not see it), and it has no handle on the UI's tab.
			expect(await tab.evaluate<string>("document.cookie")).not.toContain("orrery_");
			expect(await tab.evaluate<boolean>("window.opener === null")).toBe(true);
			// The API is not served at its origin, and the UI's origin does not answer its scripts (CORS).
			expect(await tab.evaluate<number>('fetch("/api/you").then((r) => r.status)')).toBe(404);
			const acrossOrigins = await tab.evaluate<string>(
				`fetch(${JSON.stringify(`${server.url}/api/you`)}, { credentials: "include" }).then((r) => "read " + r.status, () => "blocked")`,
			);
			expect(acrossOrigins).toBe("blocked");

			// The entry link was spent; the UI made a fresh one, which opens a second tab as well.
			const [again] = await Promise.all([browser.context.waitForEvent("page"), link.click()]);
			await again.getByRole("link", { name: "data" }).first().waitFor({ timeout: 30_000 });
			expect(new URL(again.url()).origin).toBe(sessionsOrigin);
			await again.close();
			await tab.close();
			await page.getByRole("button", { name: "Close notebook" }).click();
			await page.getByRole("button", { name: "Notebook" }).waitFor();
			expect(problems).toEqual([]);
		}, 120_000);
	},
);
