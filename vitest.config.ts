import { defineConfig } from "vitest/config";

// Unit tests sit beside their code; integration and conformance tests (public entrances only) in test/.
export default defineConfig({
	test: {
		allowOnly: false,
		testTimeout: 30_000,
		hookTimeout: 60_000,
		reporters: process.env.CI ? ["default"] : ["default"],
		projects: [
			{ extends: true, test: { name: "unit", include: ["src/**/*.test.ts"], sequence: { groupOrder: 0 } } },
			{
				extends: true,
				test: {
					name: "integration",
					include: ["test/**/*.test.ts"],
					exclude: ["test/conformance/**"],
					// Integration tests start servers and processes; two files at a time suit this 2-core machine.
					maxWorkers: 2,
					sequence: { groupOrder: 1 },
				},
			},
			{
				extends: true,
				test: {
					name: "conformance",
					include: ["test/conformance/**/*.test.ts"],
					maxWorkers: 1,
					sequence: { groupOrder: 2 },
				},
			},
		],
	},
});
