import { spawnSync } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { packageRoot } from "../web/orrery-process.js";

describe("bin/orrery.js picks the build to run", () => {
	// A copy of the real entry point beside stand-in builds that say which one ran.
	const root = mkdtempSync(join(tmpdir(), "orrery-entry-"));
	mkdirSync(join(root, "bin"));
	mkdirSync(join(root, "dist/bundle"), { recursive: true });
	copyFileSync(join(packageRoot, "bin/orrery.js"), join(root, "bin/orrery.js"));
	writeFileSync(join(root, "package.json"), '{"type": "module"}');
	const modules = join(root, "dist/main.js");
	const bundle = join(root, "dist/bundle/main.js");
	writeFileSync(modules, 'console.log("modules");');
	const ran = () => spawnSync(process.execPath, [join(root, "bin/orrery.js")], { encoding: "utf8" }).stdout.trim();
	const at = (file: string, seconds: number) => utimesSync(file, seconds, seconds);

	it("runs the bundle when it is at least as new as the compiled modules, else the modules", () => {
		expect(ran()).toBe("modules"); // no bundle (npm run dev)
		writeFileSync(bundle, 'console.log("bundle");');
		at(modules, 1_000_000);
		at(bundle, 1_000_100);
		expect(ran()).toBe("bundle"); // npm run build: tsc, then the bundle
		at(modules, 1_000_200);
		expect(ran()).toBe("modules"); // a bare tsc since: the bundle is stale
		at(bundle, 1_000_200);
		expect(ran()).toBe("bundle"); // an installed package: every file has the same date
		rmSync(modules);
		expect(ran()).toBe("bundle");
	});
});
