import type { FastifyInstance } from "fastify";

import type { ServerContext } from "./server-context.js";

/** Prometheus metrics at /metrics: request latencies, workflows by status, backend polls. */
export async function installMetrics(app: FastifyInstance, ctx: ServerContext): Promise<void> {
	const { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } = await import("prom-client");
	const registry = new Registry();
	collectDefaultMetrics({ register: registry });
	const duration = new Histogram({
		name: "orrery_http_request_duration_seconds",
		help: "HTTP request duration by route and status",
		labelNames: ["route", "method", "status"],
		buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10],
		registers: [registry],
	});
	new Gauge({
		name: "orrery_workflows",
		help: "Workflows by status",
		labelNames: ["status"],
		registers: [registry],
		async collect() {
			const rows = await ctx.db.kysely
				.selectFrom("workflows")
				.select(["status", (eb) => eb.fn.countAll().as("n")])
				.groupBy("status")
				.execute();
			this.reset();
			for (const r of rows) this.set({ status: r.status }, Number(r.n));
		},
	});
	const polls = new Counter({
		name: "orrery_backend_polls_total",
		help: "Status queries sent to compute backends",
		labelNames: ["backend"],
		registers: [registry],
	});
	const seen: Record<string, number> = {};
	app.addHook("onResponse", async (request, reply) => {
		duration.observe(
			{ route: request.routeOptions.url ?? "unknown", method: request.method, status: String(reply.statusCode) },
			reply.elapsedTime / 1000,
		);
	});
	app.get("/metrics", { schema: { hide: true }, config: { isPublic: true } }, async (_request, reply) => {
		for (const [name, n] of Object.entries(ctx.scheduler.pollCounts())) {
			polls.inc({ backend: name }, n - (seen[name] ?? 0));
			seen[name] = n;
		}
		return reply.type(registry.contentType).send(await registry.metrics());
	});
}
