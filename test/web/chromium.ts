// Debian's Chromium driven by playwright-core, with the flags that work on this machine.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type BrowserContext, chromium } from "playwright-core";

/** The Chromium binary (Debian's package). */
export const chromiumPath = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

const flags = [
	"--headless",
	"--no-sandbox",
	"--disable-gpu",
	"--disable-quic",
	"--no-first-run",
	"--disable-background-networking",
	"--disable-component-update",
	"--disable-sync",
];

/** A browser with a fresh profile (so an empty cache); close() removes the profile. */
export async function launchChromium(
	options: { width?: number; height?: number } = {},
): Promise<{ context: BrowserContext; close(): Promise<void> }> {
	const profile = mkdtempSync(join(tmpdir(), "orrery-chromium-"));
	// Playwright passes --user-data-dir itself for a persistent context.
	const context = await chromium.launchPersistentContext(profile, {
		executablePath: chromiumPath,
		headless: true,
		args: flags,
		acceptDownloads: true,
		viewport: { width: options.width ?? 1366, height: options.height ?? 800 },
	});
	return {
		context,
		close: async () => {
			await context.close();
			rmSync(profile, { recursive: true, force: true });
		},
	};
}
