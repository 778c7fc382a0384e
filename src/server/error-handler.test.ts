import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import BetterSqlite3 from "better-sqlite3";
import Fastify from "fastify";
import { afterAll, describe, expect, test } from "vitest";
import { installErrorHandler } from "./error-handler.js";

describe("the error handler", () => {
	const dir = mkdtempSync(join(tmpdir(), "orrery-error-handler-"));
	afterAll(() => rmSync(dir, { recursive: true, force: true }));

	test("a busy database (real SQLite lock) is a 503 to retry with one line, any other failure a 500 without details", async () => {
		const file = join(dir, "busy.db");
		const holder = new BetterSqlite3(file);
		const other = new BetterSqlite3(file, { timeout: 0 });
		holder.exec("CREATE TABLE t (x)");
		holder.exec("BEGIN IMMEDIATE");
		const app = Fastify({ logger: false });
		installErrorHandler(app);
		app.post("/busy", async () => {
			other.exec("INSERT INTO t VALUES (1)");
			return {};
		});
		app.get("/broken", async () => {
			other.exec("SELECT * FROM no_such_table");
			return {};
		});
		try {
			const busy = await app.inject({ method: "POST", url: "/busy" });
			expect(busy.statusCode).toBe(503);
			expect(busy.headers["retry-after"]).toBe("5");
			expect(busy.json()).toMatchObject({
				code: "backend_unavailable",
				message: "the database is busy or unreachable for now; try again in a few seconds",
			});
			const broken = await app.inject({ method: "GET", url: "/broken" });
			expect(broken.statusCode).toBe(500);
			expect(broken.body).not.toContain("no_such_table");
		} finally {
			holder.exec("ROLLBACK");
			holder.close();
			other.close();
			await app.close();
		}
	});
});
