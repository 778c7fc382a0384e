import { describe, expect, it } from "vitest";
import { AuthFailureLimiter } from "./auth-failure-limiter.js";

describe("AuthFailureLimiter", () => {
	it("refuses an address or a token prefix after too many failures, until the window has passed", () => {
		let now = 0;
		const limiter = new AuthFailureLimiter({ windowMs: 1000, perIp: 3, perToken: 2 }, { now: () => new Date(now) });
		limiter.fail("1.1.1.1", "orr_aaaaaaaa");
		limiter.check("1.1.1.1", "orr_aaaaaaaa");
		limiter.fail("2.2.2.2", "orr_aaaaaaaa");
		expect(() => limiter.check("3.3.3.3", "orr_aaaaaaaa")).toThrow(/with the token orr_aaaaaaaa/);
		limiter.check("3.3.3.3", "orr_bbbbbbbb");
		limiter.fail("1.1.1.1", "orr_cccccccc");
		limiter.fail("1.1.1.1", "orr_dddddddd");
		expect(() => limiter.check("1.1.1.1", "orr_eeeeeeee")).toThrow(/from 1\.1\.1\.1; try again in 1 s/);
		now = 1000;
		limiter.check("1.1.1.1", "orr_aaaaaaaa");
	});
});
